package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.mmlab.api.Access;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.Vma;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.testing.CoarseTestStrategy;
import dev.mmlab.api.testing.TestFiles;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Edge semantics checked against the Linux 6.18 source, one test per rule, named after the kernel function
 * that decides it. The first four are the kernel-oracle findings F1-F4 of the trace replay (issue 7).
 */
class KernelFidelityTest {
    static final long A = 0x7f0000100000L;
    static final long B = 0x7f0000400000L;
    static final long P = PAGE_SIZE;
    static final int RW = PROT_READ | PROT_WRITE;

    Mm mm;

    @BeforeEach
    void setUp() {
        mm = CoarseTestStrategy.newMm();
    }

    @AfterEach
    void checkInvariants() {
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    private static void fails(Errno errno, ThrowingCallable call) {
        assertThatThrownBy(call).isInstanceOfSatisfying(ErrnoException.class,
                e -> assertThat(e.errno()).as(e.getMessage()).isEqualTo(errno));
    }

    private Vma at(long addr) {
        return mm.tree().find(addr);
    }

    // ------------------------------------------------------------------ oracle findings

    /** F1, {@code check_prep_vma}/{@code shrink_vma}: a non-moving shrink may span VMAs and holes. */
    @Test
    void mremapShrinkAcrossVmasAndHolesUnmapsTheTail() {
        mm.mmapAnon(A, 2 * P, RW, MAP_FIXED);
        mm.mmapAnon(A + 2 * P, 2 * P, PROT_READ, MAP_FIXED);
        mm.mmapAnon(A + 5 * P, P, RW, MAP_FIXED);
        assertThat(mm.mremap(A, 6 * P, P, 0, 0)).isEqualTo(A);
        assertThat(at(A).end()).isEqualTo(A + P);
        assertThat(mm.tree().overlapping(A + P, A + 6 * P)).isEmpty();
        fails(Errno.EFAULT, () -> mm.mremap(A + P, 2 * P, P, 0, 0));
    }

    /** F2, {@code check_prep_vma}: a fixed shrink needs only [addr, addr + new_len) inside the VMA. */
    @Test
    void mremapFixedShrinkAcrossAVmaEndMoves() {
        mm.mmapAnon(A, 2 * P, RW, MAP_FIXED);
        mm.write(A, 42);
        mm.mmapAnon(A + 2 * P, 4 * P, PROT_READ, MAP_FIXED);
        assertThat(mm.mremap(A, 6 * P, P, MREMAP_MAYMOVE | MREMAP_FIXED, B)).isEqualTo(B);
        assertThat(mm.tree().overlapping(A, A + 6 * P)).isEmpty();
        assertThat(at(B).end()).isEqualTo(B + P);
        assertThat(mm.read(B)).isEqualTo(42);
    }

    /** F3, {@code mremap_at} MREMAP_NO_RESIZE: same size without FIXED returns addr, checking nothing more. */
    @Test
    void mremapSameSizeWithoutFixedIsANoOpEvenAcrossVmas() {
        mm.mmapAnon(A, 2 * P, RW, MAP_FIXED);
        mm.mmapAnon(A + 2 * P, 2 * P, PROT_READ, MAP_FIXED);
        String before = mm.procMaps();
        assertThat(mm.mremap(A, 4 * P, 4 * P, 0, 0)).isEqualTo(A);
        assertThat(mm.procMaps()).isEqualTo(before);
    }

    /** F4, {@code find_mergeable_anon_vma}: a first COW reuses a compatible neighbour's anon_vma, so they merge later. */
    @Test
    void firstAnonFaultReusesACompatibleNeighboursIdentity() {
        BackingFile f = TestFiles.file(mm, 9);
        mm.mmap(A, 9 * P, RW, MAP_PRIVATE | MAP_FIXED, TestFiles.rw(f), 0);
        mm.mprotect(A, 6 * P, RW | PROT_EXEC);
        mm.write(A, 1);
        mm.write(A + 6 * P, 1);
        assertThat(at(A + 6 * P).anon()).isSameAs(at(A).anon());
        mm.mprotect(A, 9 * P, PROT_READ | PROT_EXEC);
        assertThat(at(A).start()).isEqualTo(A);
        assertThat(at(A).end()).isEqualTo(A + 9 * P);
    }

    @Test
    void forkedIdentitiesAreNotReused() {
        mm.mmapAnon(A, 2 * P, RW, MAP_FIXED);
        mm.mmapAnon(A + 2 * P, 2 * P, PROT_READ, MAP_FIXED);
        mm.write(A, 1);
        Mm child = mm.fork();
        try {
            child.read(A + 2 * P);
            child.mprotect(A + 2 * P, 2 * P, RW);
            child.write(A + 2 * P, 1);
            assertThat(child.tree().find(A + 2 * P).anon()).isNotSameAs(child.tree().find(A).anon());
        } finally {
            child.exit();
        }
    }

    // ------------------------------------------------------------------ mremap

    /** {@code remap_move}: each VMA moves by the same delta; only its own part of the target is unmapped. */
    @Test
    void fixedSameSizeMoveKeepsGapsAndLeavesTargetGapsAlone() {
        mm.mmapAnon(A, P, RW, MAP_FIXED);
        mm.mmapAnon(A + 2 * P, P, PROT_READ, MAP_FIXED);
        mm.write(A, 7);
        mm.mmapAnon(B + P, P, PROT_EXEC, MAP_FIXED); // sits where the source gap lands: survives
        mm.mmapAnon(B + 2 * P, P, PROT_EXEC, MAP_FIXED); // sits where the second VMA lands: replaced
        assertThat(mm.mremap(A, 4 * P, 4 * P, MREMAP_MAYMOVE | MREMAP_FIXED, B)).isEqualTo(B);
        assertThat(mm.tree().overlapping(A, A + 4 * P)).isEmpty();
        assertThat(mm.read(B)).isEqualTo(7);
        assertThat(at(B + P).flags() & VM_ACCESS_FLAGS).isEqualTo(VM_EXEC);
        assertThat(at(B + 2 * P).flags() & VM_ACCESS_FLAGS).isEqualTo(VM_READ);
        assertThat(at(B + 3 * P)).isNull();
        fails(Errno.EFAULT, () -> mm.mremap(B - 4 * P, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_FIXED, A));
    }

    /** {@code dontunmap_complete}: the VMA left behind loses VM_LOCKED; the pages moved. */
    @Test
    void dontUnmapClearsLockedOnWhatStaysAndTakesTheAddressAsAHint() {
        mm.mmapAnon(A, 2 * P, RW, MAP_FIXED | MAP_LOCKED);
        mm.write(A, 5);
        long moved = mm.mremap(A, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, B);
        assertThat(moved).isEqualTo(B);
        assertThat(at(A).has(VM_LOCKED)).isFalse();
        assertThat(at(A).anon()).isNull();
        assertThat(at(B).has(VM_LOCKED)).isTrue();
        assertThat(mm.read(B)).isEqualTo(5);
        assertThat(mm.read(A)).isZero();
    }

    /** {@code __get_unmapped_area}: a moved private anon region of 2 MiB multiples is THP aligned too. */
    @Test
    void mremapMoveOfAnonPmdMultipleIsThpAligned() {
        mm.mmapAnon(0, P, RW, 0); // makes the top gap end unaligned
        long a = mm.mmapAnon(0, 2 * P, RW, 0);
        long moved = mm.mremap(a, 2 * P, PMD_SIZE, MREMAP_MAYMOVE, 0);
        assertThat(moved % PMD_SIZE).isZero();
    }

    // ------------------------------------------------------------------ mmap

    /** {@code __thp_get_unmapped_area}: no hint and a 2 MiB multiple: padded search, rounded up inside it. */
    @Test
    void thpAlignmentOnlyWithoutHint() {
        long base = mm.config().mmapBase();
        assertThat(mm.mmapAnon(0, P, RW, 0)).isEqualTo(base - P);
        assertThat(mm.mmapAnon(0, PMD_SIZE, RW, 0)).isEqualTo(base - 2 * PMD_SIZE);
        Mm other = CoarseTestStrategy.newMm();
        other.mmapAnon(0, P, RW, 0);
        // An occupied hint: the plain top-down search, no alignment.
        assertThat(other.mmapAnon(base - P, PMD_SIZE, RW, 0)).isEqualTo(base - P - PMD_SIZE);
        assertThat(other.mmapAnon(0, PMD_SIZE + P, RW, 0)).isEqualTo(base - P - PMD_SIZE - PMD_SIZE - P);
        other.exit();
    }

    /** {@code calc_vm_flag_bits}: MAP_STACK means VM_NOHUGEPAGE, so a thread stack does not merge with plain anon. */
    @Test
    void mapStackIsNoHugePage() {
        mm.mmapAnon(A, P, RW, MAP_FIXED);
        mm.mmapAnon(A + P, P, RW, MAP_FIXED | MAP_STACK);
        assertThat(at(A + P).has(VM_NOHUGEPAGE)).isTrue();
        assertThat(at(A).end()).isEqualTo(A + P);
    }

    /** {@code do_mmap}: MAP_FIXED_NOREPLACE is not in LEGACY_MAP_MASK, so MAP_SHARED_VALIDATE refuses it for a file. */
    @Test
    void sharedValidateRefusesNoReplaceForAFile() {
        BackingFile f = TestFiles.file(mm, 2);
        fails(Errno.EOPNOTSUPP, () -> mm.mmap(A, P, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, TestFiles.rw(f), 0));
        assertThat(mm.mmap(A, P, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED, TestFiles.rw(f), 0)).isEqualTo(A);
    }

    /**
     * Finding 12, {@code do_mmap}: its switch on {@code flags & MAP_TYPE} for anonymous memory has MAP_SHARED and
     * MAP_PRIVATE only, so MAP_SHARED_VALIDATE there is EINVAL whatever else is set (after EEXIST, which comes
     * first); for a file it checks the flags against LEGACY_MAP_MASK: EOPNOTSUPP. As a C program saw on 6.18.44.
     */
    @Test
    void sharedValidateIsEinvalForAnonymousMemoryAndChecksFlagsForAFile() {
        int anonSv = MAP_SHARED_VALIDATE | MAP_ANONYMOUS;
        fails(Errno.EINVAL, () -> mm.mmap(A, P, PROT_READ, anonSv | MAP_FIXED, null, 0));
        fails(Errno.EINVAL, () -> mm.mmap(0, P, PROT_READ, anonSv, null, 0));
        fails(Errno.EINVAL, () -> mm.mmap(A, P, PROT_READ, anonSv | MAP_FIXED | 0x400, null, 0));
        fails(Errno.EINVAL, () -> mm.mmap(A, P, PROT_READ, anonSv | MAP_FIXED | MAP_GROWSDOWN, null, 0));
        assertThat(mm.tree().all()).isEmpty();
        mm.mmapAnon(A, P, PROT_READ, MAP_FIXED);
        fails(Errno.EEXIST, () -> mm.mmap(A, P, PROT_READ, anonSv | MAP_FIXED_NOREPLACE, null, 0));
        BackingFile f = TestFiles.file(mm, 2);
        fails(Errno.EOPNOTSUPP, () -> mm.mmap(B, P, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED | 0x200, TestFiles.rw(f), 0));
        fails(Errno.EOPNOTSUPP, () -> mm.mmap(B, P, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED | MAP_SYNC, TestFiles.rw(f), 0));
        assertThat(mm.mmap(B, P, PROT_READ, MAP_SHARED | MAP_FIXED | 0x200, TestFiles.rw(f), 0)).isEqualTo(B);
    }

    /** {@code __get_unmapped_area}: an out-of-range MAP_FIXED address is ENOMEM before its alignment is EINVAL. */
    @Test
    void fixedRangeIsCheckedBeforeAlignment() {
        fails(Errno.ENOMEM, () -> mm.mmapAnon(TASK_SIZE + 1, P, RW, MAP_FIXED));
    }

    // ------------------------------------------------------------------ madvise, mlock

    /** {@code madvise_populate}: stops at the first hole with ENOMEM; nothing after it is touched. */
    @Test
    void madvisePopulateStopsAtTheFirstHole() {
        mm.mmapAnon(A, P, RW, MAP_FIXED);
        mm.mmapAnon(A + 2 * P, P, RW, MAP_FIXED);
        fails(Errno.ENOMEM, () -> mm.madvise(A, 3 * P, MADV_POPULATE_WRITE));
        assertThat(mm.smaps().stream().filter(e -> e.rssKb() > 0).count()).isEqualTo(1);
        mm.mmapAnon(A + P, P, PROT_NONE, MAP_FIXED);
        fails(Errno.EINVAL, () -> mm.madvise(A, 3 * P, MADV_POPULATE_READ));
    }

    /** {@code populate_vma_page_range}: PROT_NONE is -EFAULT, which mlock reports as ENOMEM; the VMA stays locked. */
    @Test
    void mlockOfProtNoneIsEnomemButLocks() {
        mm.mmapAnon(A, P, PROT_NONE, MAP_FIXED);
        fails(Errno.ENOMEM, () -> mm.mlock(A, P, 0));
        assertThat(at(A).has(VM_LOCKED)).isTrue();
    }

    /** {@code mlockall} populates with {@code mm_populate}, which ignores errors: a PROT_NONE VMA does not stop it. */
    @Test
    void mlockallPopulatesPastProtNone() {
        mm.mmapAnon(A, P, PROT_NONE, MAP_FIXED);
        mm.mmapAnon(A + 2 * P, P, RW, MAP_FIXED);
        mm.mlockall(MCL_CURRENT);
        assertThat(mm.smaps().stream().filter(e -> e.rssKb() > 0).count()).isEqualTo(1);
        mm.munlockall();
    }

    // ------------------------------------------------------------------ op-script oracle findings (issue 16)

    /** Finding 1, {@code madvise_remove}: no file behind the VMA (private anonymous) is EINVAL, not EACCES. */
    @Test
    void madviseRemoveOfPrivateAnonymousMemoryIsEinval() {
        mm.mmapAnon(A, 4 * P, PROT_READ, MAP_FIXED);
        fails(Errno.EINVAL, () -> mm.madvise(A, 4 * P, MADV_REMOVE));
        mm.mmapAnon(A, 4 * P, RW, MAP_FIXED);
        fails(Errno.EINVAL, () -> mm.madvise(A, 4 * P, MADV_REMOVE));
    }

    /**
     * Finding 2, {@code madvise_remove} ({@code vma_is_shared_maywrite}): a shared mapping that may become writable
     * takes REMOVE without PROT_WRITE, and its pages go; a shared mapping of a read-only file does not.
     */
    @Test
    void madviseRemoveNeedsASharedMappingThatMayWriteNotOneThatIsWritable() {
        mm.mmap(A, 4 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, null, 0);
        mm.write(A + P, 7);
        mm.mprotect(A, 4 * P, PROT_EXEC);
        mm.madvise(A, 4 * P, MADV_REMOVE);
        assertThat(mm.smaps().get(0).rssKb()).isZero();
        BackingFile file = TestFiles.file(mm, 4);
        mm.mmap(B, 4 * P, PROT_READ, MAP_SHARED, TestFiles.ro(file), 0);
        fails(Errno.EACCES, () -> mm.madvise(B, 4 * P, MADV_REMOVE));
    }

    /**
     * Finding 3, {@code can_madv_lru_vma}: COLD and PAGEOUT refuse VM_LOCKED memory with EINVAL, which stops the
     * walk before the ENOMEM a hole earlier in the range would give at the end.
     */
    @Test
    void coldAndPageoutOfLockedMemoryAreEinvalEvenAfterAHole() {
        mm.mmapAnon(A + P, 4 * P, RW, MAP_FIXED);
        mm.mlock(A + P, 4 * P, 0);
        for (int advice : new int[] {MADV_COLD, MADV_PAGEOUT}) {
            fails(Errno.EINVAL, () -> mm.madvise(A + P, 4 * P, advice));
            fails(Errno.EINVAL, () -> mm.madvise(A, 5 * P, advice));
        }
        assertThat(mm.smaps().get(0).rssKb()).isEqualTo(16);
        mm.munlock(A + P, 4 * P);
        mm.madvise(A + P, 4 * P, MADV_COLD);
        fails(Errno.ENOMEM, () -> mm.madvise(A, 5 * P, MADV_PAGEOUT));
    }

    /**
     * Finding 4, {@code madvise_free_pte_range}: FREE keeps the pages mapped (Rss stays) and only makes them clean;
     * a write dirties a page again and keeps it.
     */
    @Test
    void madviseFreeKeepsPagesMappedButClean() {
        mm.mmapAnon(A, 4 * P, RW, MAP_FIXED | MAP_POPULATE);
        mm.write(A + P, 42);
        mm.madvise(A + P, 2 * P, MADV_FREE);
        Mm.SmapsEntry e = mm.smaps().get(0);
        assertThat(e.rssKb()).isEqualTo(16);
        assertThat(e.anonKb()).isEqualTo(16);
        assertThat(e.dirtyKb()).isEqualTo(8);
        mm.write(A + 2 * P, 43);
        assertThat(mm.smaps().get(0).dirtyKb()).isEqualTo(12);
        assertThat(mm.read(A + P)).isEqualTo(42);
    }

    /**
     * Finding 5, {@code mprotect_fixup}: a private VM_LOCKED VMA that becomes writable is populated with write
     * faults; not with VM_LOCKONFAULT, not a shared one, and the part changed before a hole's ENOMEM is.
     */
    @Test
    void mprotectMakingPrivateLockedMemoryWritablePopulatesIt() {
        mm.mmapAnon(A, 4 * P, PROT_NONE, MAP_FIXED);
        fails(Errno.ENOMEM, () -> mm.mlock(A, 4 * P, 0));
        mm.mprotect(A, 2 * P, RW);
        mm.mmapAnon(A + 10 * P, 4 * P, PROT_READ, MAP_FIXED | MAP_LOCKED);
        mm.mprotect(A + 10 * P, 4 * P, RW);
        mm.mmapAnon(A + 20 * P, 4 * P, PROT_NONE, MAP_FIXED);
        mm.mlock(A + 20 * P, 4 * P, MLOCK_ONFAULT);
        mm.mprotect(A + 20 * P, 4 * P, RW);
        mm.mmap(A + 30 * P, 4 * P, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED | MAP_LOCKED, null, 0);
        mm.mprotect(A + 30 * P, 4 * P, RW);
        mm.mmapAnon(A + 40 * P, 2 * P, PROT_NONE, MAP_FIXED | MAP_LOCKED);
        fails(Errno.ENOMEM, () -> mm.mprotect(A + 40 * P, 4 * P, RW));
        assertThat(mm.smaps()).extracting(Mm.SmapsEntry::rssKb, Mm.SmapsEntry::dirtyKb).containsExactly(
                tuple(8L, 8L), tuple(0L, 0L), tuple(16L, 16L), tuple(0L, 0L), tuple(0L, 0L), tuple(8L, 8L));
        mm.munlockall();
    }

    /**
     * Finding 6, {@code madvise_pageout} with no swap: reclaim unmaps a shmem page only this PTE maps (it stays in
     * the object: a touch maps it again); private anonymous pages stay, and so does a page mapped twice.
     */
    @Test
    void pageoutUnmapsSharedAnonymousPagesOnly() {
        int shared = MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED;
        mm.mmap(A, 4 * P, RW, shared, null, 0);
        mm.write(A, 42);
        mm.read(A + P);
        mm.mmapAnon(A + 10 * P, 4 * P, RW, MAP_FIXED | MAP_POPULATE);
        fails(Errno.ENOMEM, () -> mm.madvise(A, 14 * P, MADV_PAGEOUT));
        fails(Errno.ENOMEM, () -> mm.madvise(A, 14 * P, MADV_COLD));
        assertThat(mm.smaps()).extracting(Mm.SmapsEntry::rssKb).containsExactly(0L, 16L);
        assertThat(mm.read(A)).isEqualTo(42);
        mm.mmap(A + 20 * P, 2 * P, RW, shared, null, 0);
        mm.read(A + 20 * P);
        mm.mremap(A + 20 * P, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, A + 30 * P);
        mm.read(A + 20 * P);
        mm.write(A + 31 * P, 1);
        mm.madvise(A + 30 * P, 2 * P, MADV_PAGEOUT);
        assertThat(mm.smaps()).extracting(Mm.SmapsEntry::rssKb).containsExactly(4L, 16L, 4L, 4L);
    }

    /**
     * Finding 7, {@code do_mmap}: MAP_FIXED_NOREPLACE over a mapping is EEXIST before the mapping type is checked
     * (shared growsdown, a file opened without write); on a free range the type's error stands.
     */
    @Test
    void noReplaceOverAMappingIsEexistBeforeTheMappingTypeIsChecked() {
        int sharedGrowsDown = MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_GROWSDOWN;
        mm.mmap(A + 4 * P, 4 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, null, 0);
        fails(Errno.EEXIST, () -> mm.mmap(A, 8 * P, RW | PROT_EXEC, sharedGrowsDown, null, 0));
        fails(Errno.EINVAL, () -> mm.mmap(B, 8 * P, RW, sharedGrowsDown, null, 0));
        fails(Errno.EINVAL, () -> mm.mmap(B, 8 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, null, 0));
        BackingFile f = TestFiles.file(mm, 8);
        fails(Errno.EEXIST, () -> mm.mmap(A, 8 * P, RW, MAP_SHARED | MAP_FIXED_NOREPLACE, TestFiles.ro(f), 0));
        fails(Errno.EACCES, () -> mm.mmap(B, 8 * P, RW, MAP_SHARED | MAP_FIXED_NOREPLACE, TestFiles.ro(f), 0));
        assertThat(mm.tree().overlapping(B, B + 8 * P)).isEmpty();
    }

    /**
     * Finding 8, {@code shmem_get_folio_gfp}: a shmem object keeps the size of its mmap, so the pages mremap grows a
     * shared anonymous mapping by are past it: a touch is SIGBUS, mlock's populate fails (ENOMEM), POPULATE_READ is
     * EFAULT, and mlockall populates only the part inside the object.
     */
    @Test
    void sharedAnonymousMemoryGrownByMremapIsSigbusPastItsObject() {
        mm.mmap(A, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, null, 0);
        assertThat(mm.mremap(A, 2 * P, 4 * P, 0, 0)).isEqualTo(A);
        assertThat(mm.fault(A + P, Access.WRITE)).isEqualTo(dev.mmlab.api.FaultOutcome.MAPPED);
        assertThat(mm.fault(A + 2 * P, Access.READ)).isEqualTo(dev.mmlab.api.FaultOutcome.BUS);
        fails(Errno.ENOMEM, () -> mm.mlock(A, 4 * P, 0));
        fails(Errno.EFAULT, () -> mm.madvise(A, 4 * P, MADV_POPULATE_READ));
        mm.munlock(A, 4 * P);
        mm.mlockall(MCL_CURRENT);
        assertThat(mm.smaps().get(0).rssKb()).isEqualTo(8);
        mm.munlockall();
    }

    /**
     * Finding 9, {@code smaps_account}: a shmem page written once stays dirty (no swap to write it to) when its PTE
     * goes with PAGEOUT or DONTNEED and a read maps it again; MADV_REMOVE punches it out of the object
     * ({@code vfs_fallocate}), so a read after it maps a new, clean page of zeros.
     */
    @Test
    void aWrittenShmemPageStaysDirtyUntilRemoved() {
        mm.mmap(A, 3 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, null, 0);
        for (int i = 0; i < 3; i++) {
            mm.write(A + i * P, 40 + i);
        }
        mm.madvise(A, P, MADV_PAGEOUT);
        mm.madvise(A + P, P, MADV_DONTNEED);
        mm.madvise(A + 2 * P, P, MADV_REMOVE);
        assertThat(mm.read(A)).isEqualTo(40);
        assertThat(mm.read(A + P)).isEqualTo(41);
        assertThat(mm.read(A + 2 * P)).isZero();
        assertThat(mm.smaps()).extracting(Mm.SmapsEntry::rssKb, Mm.SmapsEntry::dirtyKb).containsExactly(tuple(12L, 8L));
    }

    /**
     * Finding 10, {@code follow_page_pte} (FOLL_TOUCH): populating a present page for writing marks it dirty, so
     * mlock or MADV_POPULATE_WRITE after MADV_FREE makes the freed pages dirty again.
     */
    @Test
    void writePopulateOfAFreedPageDirtiesIt() {
        mm.mmapAnon(A, 4 * P, RW, MAP_FIXED | MAP_POPULATE);
        mm.madvise(A, 4 * P, MADV_FREE);
        mm.madvise(A, P, MADV_POPULATE_WRITE);
        mm.mlock(A + P, P, 0);
        mm.madvise(A + 2 * P, P, MADV_POPULATE_READ);
        assertThat(mm.smaps()).extracting(Mm.SmapsEntry::rssKb, Mm.SmapsEntry::dirtyKb)
                .containsExactly(tuple(4L, 4L), tuple(4L, 4L), tuple(8L, 0L));
        mm.munlock(A + P, P);
    }

    // ------------------------------------------------------------------ brk, heap, stack

    /** {@code brk}: shrinking refuses (returns the old break) when no VMA lies in [newbrk, oldbrk). */
    @Test
    void brkShrinkAfterTheHeapWasUnmappedIsRefused() {
        long start = mm.startBrk();
        assertThat(mm.brk(start + 4 * P)).isEqualTo(start + 4 * P);
        mm.munmap(start, 4 * P);
        assertThat(mm.brk(start + P)).isEqualTo(start + 4 * P);
    }

    /** {@code do_brk_flags}: the heap never merges with the VMA after it, nor with a bss below start_brk. */
    @Test
    void brkMergesOnlyWithTheHeapBelow() {
        long start = mm.startBrk();
        mm.mmap(start - P, P, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0); // a bss
        mm.brk(start + P);
        assertThat(at(start).start()).isEqualTo(start);
        assertThat(at(start - P).end()).isEqualTo(start);
        mm.brk(start + 2 * P);
        assertThat(at(start).end()).isEqualTo(start + 2 * P);
        String maps = mm.procMaps();
        assertThat(maps.lines().filter(l -> l.endsWith("[heap]")).count()).isEqualTo(1);
        assertThat(maps.lines().filter(l -> l.startsWith(Long.toHexString(start - P))).findFirst().orElseThrow())
                .doesNotContain("[heap]");
    }

    /** {@code expand_downwards}: the guard gap is kept from an accessible VMA below, not from a PROT_NONE one. */
    @Test
    void stackGrowsUpToAProtNoneGuardButNotIntoTheGapOfAnAccessibleVma() {
        long stack = A + 300 * P;
        mm.mmapAnon(A, 8 * P, PROT_NONE, MAP_FIXED);
        mm.mmapAnon(stack, 4 * P, RW, MAP_FIXED | MAP_GROWSDOWN);
        assertThat(mm.fault(A + 8 * P, Access.WRITE)).isEqualTo(dev.mmlab.api.FaultOutcome.MAPPED);
        assertThat(at(A + 8 * P).end()).isEqualTo(stack + 4 * P);
        assertThat(at(A + 8 * P).anon()).isNotNull();
        mm.munmap(A + 8 * P, 296 * P);
        mm.mmapAnon(stack, 4 * P, RW, MAP_FIXED | MAP_GROWSDOWN);
        mm.mprotect(A, 8 * P, PROT_READ);
        assertThat(mm.fault(A + 8 * P, Access.WRITE)).isEqualTo(dev.mmlab.api.FaultOutcome.SEGV);
        assertThat(mm.fault(stack - P, Access.WRITE)).isEqualTo(dev.mmlab.api.FaultOutcome.MAPPED);
    }

    /**
     * Finding 11, {@code expand_downwards}: it only moves {@code vm_start} and never merges, so a stack grown down
     * to meet the VMA below stays apart from it (in a forked child too); the pair is canonical until it goes.
     */
    @Test
    void stackGrownDownToTheVmaBelowStaysApartFromIt() {
        long stack = A + 455 * P;
        mm.mmapAnon(stack, 3 * P, RW, MAP_FIXED | MAP_GROWSDOWN);
        assertThat(mm.fault(A + 272 * P, Access.READ)).isEqualTo(dev.mmlab.api.FaultOutcome.MAPPED);
        mm.munmap(A + 295 * P, 20 * P);
        assertThat(mm.fault(A + 295 * P, Access.READ)).isEqualTo(dev.mmlab.api.FaultOutcome.MAPPED);
        assertThat(mm.tree().overlapping(A + 272 * P, stack + 3 * P)).extracting(Vma::start, Vma::end)
                .containsExactly(tuple(A + 272 * P, A + 295 * P), tuple(A + 295 * P, stack + 3 * P));
        assertThat(VmaMerge.canMerge(at(A + 272 * P), at(A + 295 * P))).isTrue();
        assertThat(mm.stackExpansionMeets()).containsExactly(A + 295 * P);
        Mm child = mm.fork();
        assertThat(InvariantChecker.check(java.util.List.of(mm, child), java.util.List.of())).isEmpty();
        child.exit();
        // Once the lower VMA goes the exception goes with it: a new mapping there must merge as usual.
        mm.munmap(A + 272 * P, 23 * P);
        assertThat(mm.stackExpansionMeets()).isEmpty();
    }
}
