package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.testing.CoarseTestStrategy;
import dev.mmlab.api.testing.MmSnapshot;
import dev.mmlab.api.testing.TestFiles;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every syscall's errors: the errno Linux gives (mm/mmap.c, mm/vma.c, mm/mremap.c, mm/mprotect.c,
 * mm/madvise.c, mm/mlock.c, mm/gup.c) and, for a rejected call, nothing changed.
 */
class SyscallErrorsTest {
    static final long A = 0x7f0000100000L;
    static final long P = PAGE_SIZE;
    static final int RW = PROT_READ | PROT_WRITE;

    Mm mm;
    BackingFile file;

    @BeforeEach
    void setUp() {
        mm = CoarseTestStrategy.newMm();
        file = TestFiles.file(mm, 8);
        // A populated layout the failing calls must leave alone: [A, A+4P) rw anon, hole, [A+6P, A+8P) file.
        mm.mmapAnon(A, 4 * P, RW, MAP_FIXED);
        for (long a = A; a < A + 4 * P; a += P) {
            mm.write(a, a);
        }
        mm.mmap(A + 6 * P, 2 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, TestFiles.ro(file), 0);
        mm.read(A + 6 * P);
    }

    @AfterEach
    void checkInvariants() {
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    private void rejected(Errno errno, ThrowingCallable call) {
        MmSnapshot before = MmSnapshot.of(mm);
        assertThatThrownBy(call).isInstanceOfSatisfying(ErrnoException.class, e -> {
            assertThat(e.errno()).as(e.getMessage()).isEqualTo(errno);
            assertThat(e.getMessage()).hasSizeGreaterThan(errno.name().length() + 10);
        });
        assertThat(MmSnapshot.of(mm)).isEqualTo(before);
    }

    // ---------------------------------------------------------------- mmap

    @Test
    void mmapErrors() {
        rejected(Errno.EINVAL, () -> mm.mmapAnon(0, 0, RW, 0));
        rejected(Errno.EINVAL, () -> mm.mmap(0, P, RW, MAP_ANONYMOUS, null, 0));
        rejected(Errno.EINVAL, () -> mm.mmapAnon(A + 1, P, RW, MAP_FIXED));
        rejected(Errno.EINVAL, () -> mm.mmap(0, P, RW, MAP_PRIVATE | MAP_ANONYMOUS, null, 1));
        rejected(Errno.ENOMEM, () -> mm.mmapAnon(0, -P, RW, 0));
        rejected(Errno.ENOMEM, () -> mm.mmapAnon(TASK_SIZE - P, 2 * P, RW, MAP_FIXED));
        rejected(Errno.EPERM, () -> mm.mmapAnon(0x1000, P, RW, MAP_FIXED));
        rejected(Errno.EEXIST, () -> mm.mmapAnon(A + 3 * P, 2 * P, RW, MAP_FIXED_NOREPLACE));
        rejected(Errno.EBADF, () -> mm.mmap(0, P, PROT_READ, MAP_PRIVATE, null, 0));
        rejected(Errno.EACCES, () -> mm.mmap(A, P, RW, MAP_SHARED | MAP_FIXED, TestFiles.ro(file), 0));
        rejected(Errno.EACCES, () -> mm.mmap(A, P, PROT_READ, MAP_PRIVATE | MAP_FIXED,
                new OpenFile(file, false, true), 0));
        rejected(Errno.EINVAL, () -> mm.mmap(A, P, PROT_READ, MAP_PRIVATE | MAP_FIXED, TestFiles.ro(file), 100));
        rejected(Errno.EOVERFLOW, () -> mm.mmap(0, 4 * P, PROT_READ, MAP_PRIVATE, TestFiles.ro(file), -P));
        rejected(Errno.EOPNOTSUPP, () -> mm.mmap(0, P, PROT_READ, MAP_SHARED_VALIDATE | 0x400, TestFiles.ro(file), 0));
        rejected(Errno.EINVAL, () -> mm.mmap(A, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED, null, 0));
    }

    @Test
    void mmapWithoutRoomIsEnomemAndChangesNothing() {
        // arch_get_unmapped_area_topdown falls back to a bottom-up search above TASK_UNMAPPED_BASE: only a
        // length that fits neither below mmap_base nor above TASK_SIZE / 3 is ENOMEM.
        Mm small = CoarseTestStrategy.newMm(MmConfig.defaults().withMmapBase(MMAP_MIN_ADDR + 4 * P));
        small.mmapAnon(0, 4 * P, RW, 0);
        String before = small.procMaps();
        long tooLong = TASK_SIZE - Mm.MMAP_LEGACY_BASE + P;
        assertThatThrownBy(() -> small.mmapAnon(0, tooLong, RW, 0)).isInstanceOfSatisfying(ErrnoException.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.ENOMEM));
        assertThat(small.procMaps()).isEqualTo(before);
        assertThat(small.mmapAnon(0, P, RW, 0)).isEqualTo(Mm.MMAP_LEGACY_BASE);
    }

    @Test
    void mmapFixedReplacesAndHintFallsBackToAFreeRange() {
        long hinted = mm.mmapAnon(A + P, P, RW, 0);
        assertThat(hinted).isNotEqualTo(A + P);
        assertThat(mm.mmapAnon(A + 4 * P, P, RW, 0)).isEqualTo(A + 4 * P);
        mm.mmapAnon(A + P, P, PROT_READ, MAP_FIXED);
        assertThat(mm.read(A + P)).isZero();
        assertThat(mm.read(A)).isEqualTo(A);
    }

    // ---------------------------------------------------------------- munmap

    @Test
    void munmapErrors() {
        rejected(Errno.EINVAL, () -> mm.munmap(A + 1, P));
        rejected(Errno.EINVAL, () -> mm.munmap(A, 0));
        rejected(Errno.EINVAL, () -> mm.munmap(TASK_SIZE - P, 2 * P));
        rejected(Errno.EINVAL, () -> mm.munmap(-P, P));
        MmSnapshot before = MmSnapshot.of(mm);
        mm.munmap(A + 4 * P, 2 * P); // the hole: success, nothing to do
        assertThat(MmSnapshot.of(mm)).isEqualTo(before);
    }

    // ---------------------------------------------------------------- mprotect

    @Test
    void mprotectErrors() {
        rejected(Errno.EINVAL, () -> mm.mprotect(A + 1, P, PROT_READ));
        rejected(Errno.EINVAL, () -> mm.mprotect(A, P, PROT_READ | 0x10));
        rejected(Errno.EINVAL, () -> mm.mprotect(A, P, PROT_GROWSDOWN | PROT_GROWSUP));
        rejected(Errno.EINVAL, () -> mm.mprotect(A, P, PROT_READ | PROT_GROWSDOWN));
        rejected(Errno.ENOMEM, () -> mm.mprotect(A + 4 * P, P, PROT_READ));
        rejected(Errno.ENOMEM, () -> mm.mprotect(A - P, 2 * P, PROT_READ));
        rejected(Errno.ENOMEM, () -> mm.mprotect(A, -2 * P, PROT_READ));
        // The file was opened read-only: a shared mapping of it can never become writable.
        mm.mmap(A + 10 * P, P, PROT_READ, MAP_SHARED | MAP_FIXED, TestFiles.ro(file), 0);
        rejected(Errno.EACCES, () -> mm.mprotect(A + 10 * P, P, RW));
        MmSnapshot before = MmSnapshot.of(mm);
        mm.mprotect(A, 0, PROT_NONE);
        assertThat(MmSnapshot.of(mm)).isEqualTo(before);
    }

    @Test
    void mprotectStopsAtAHoleKeepingEarlierChanges() {
        assertThatThrownBy(() -> mm.mprotect(A + 2 * P, 6 * P, PROT_READ))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOMEM));
        assertThat(mm.tree().find(A + 2 * P).flags() & VM_ACCESS_FLAGS).isEqualTo(VM_READ);
        assertThat(mm.tree().find(A).flags() & VM_ACCESS_FLAGS).isEqualTo(VM_READ | VM_WRITE);
        assertThat(mm.tree().find(A + 6 * P).start()).isEqualTo(A + 6 * P);
        assertThat(mm.read(A + 3 * P)).isEqualTo(A + 3 * P);
        assertThatThrownBy(() -> mm.write(A + 3 * P, 1)).hasMessageContaining("ACCESS");
    }

    @Test
    void mprotectStopsAtAVmaThatForbidsItKeepingEarlierChanges() {
        mm.mmap(A + 4 * P, 2 * P, PROT_READ, MAP_SHARED | MAP_FIXED, TestFiles.ro(file), 0);
        assertThatThrownBy(() -> mm.mprotect(A, 6 * P, RW | PROT_EXEC))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EACCES));
        assertThat(mm.tree().find(A).flags() & VM_ACCESS_FLAGS).isEqualTo(VM_READ | VM_WRITE | VM_EXEC);
        assertThat(mm.tree().find(A).end()).isEqualTo(A + 4 * P);
        assertThat(mm.tree().find(A + 4 * P).flags() & VM_ACCESS_FLAGS).isEqualTo(VM_READ);
    }

    // ---------------------------------------------------------------- mremap

    @Test
    void mremapErrors() {
        rejected(Errno.EINVAL, () -> mm.mremap(A, P, P, 0x10, 0));
        rejected(Errno.EINVAL, () -> mm.mremap(A, P, P, MREMAP_FIXED, A + 20 * P));
        rejected(Errno.EINVAL, () -> mm.mremap(A, P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0));
        rejected(Errno.EINVAL, () -> mm.mremap(A + 1, P, P, 0, 0));
        rejected(Errno.EINVAL, () -> mm.mremap(A, P, 0, 0, 0));
        rejected(Errno.EINVAL, () -> mm.mremap(A, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, A + P));
        rejected(Errno.EINVAL, () -> mm.mremap(A, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, A + 20 * P + 1));
        rejected(Errno.EFAULT, () -> mm.mremap(A + 4 * P, P, 2 * P, MREMAP_MAYMOVE, 0));
        rejected(Errno.EFAULT, () -> mm.mremap(A + 2 * P, 4 * P, 5 * P, MREMAP_MAYMOVE, 0));
        // [A, A+4P) cannot grow in place: [A+6P, ...) is in the way once it needs 7 pages.
        rejected(Errno.ENOMEM, () -> mm.mremap(A, 4 * P, 7 * P, 0, 0));
        rejected(Errno.EFAULT, () -> mm.mremap(A + 4 * P, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, A + 20 * P));
    }

    @Test
    void mremapShrinkGrowInPlaceAndMove() {
        assertThat(mm.mremap(A, 4 * P, 3 * P, 0, 0)).isEqualTo(A);
        assertThat(mm.tree().find(A).end()).isEqualTo(A + 3 * P);
        assertThat(mm.mremap(A, 3 * P, 5 * P, 0, 0)).isEqualTo(A);
        assertThat(mm.tree().find(A).end()).isEqualTo(A + 5 * P);
        assertThat(mm.read(A + 2 * P)).isEqualTo(A + 2 * P);
        assertThat(mm.read(A + 3 * P)).isZero();
        long moved = mm.mremap(A, 5 * P, 10 * P, MREMAP_MAYMOVE, 0);
        assertThat(moved).isNotEqualTo(A);
        assertThat(mm.tree().find(A)).isNull();
        assertThat(mm.read(moved + P)).isEqualTo(A + P);
    }

    // ---------------------------------------------------------------- madvise

    @Test
    void madviseErrors() {
        rejected(Errno.EINVAL, () -> mm.madvise(A + 1, P, MADV_DONTNEED));
        rejected(Errno.EINVAL, () -> mm.madvise(A, P, 999));
        rejected(Errno.EINVAL, () -> mm.madvise(A, -P, MADV_DONTNEED));
        rejected(Errno.ENOMEM, () -> mm.madvise(A + 4 * P, 2 * P, MADV_DONTNEED));
        rejected(Errno.EINVAL, () -> mm.madvise(A + 6 * P, P, MADV_WIPEONFORK));
        rejected(Errno.ENOMEM, () -> mm.madvise(A + 4 * P, 2 * P, MADV_DONTFORK));
        MmSnapshot before = MmSnapshot.of(mm);
        mm.madvise(A, 0, MADV_DONTNEED);
        assertThat(MmSnapshot.of(mm)).isEqualTo(before);
    }

    @Test
    void madviseDontneedAppliesAroundHolesThenEnomem() {
        assertThatThrownBy(() -> mm.madvise(A, 8 * P, MADV_DONTNEED))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOMEM));
        assertThat(mm.read(A)).isZero();
        assertThat(mm.read(A + 3 * P)).isZero();
        assertThat(mm.read(A + 6 * P)).isEqualTo(mm.read(A + 6 * P));
        assertThat(mm.allocator().livePages()).allMatch(p -> p.file() == file);
    }

    @Test
    void madviseFlagAdviceAppliesAroundHolesThenEnomem() {
        assertThatThrownBy(() -> mm.madvise(A + 2 * P, 6 * P, MADV_DONTFORK))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOMEM));
        assertThat(mm.tree().find(A + 2 * P).has(VM_DONTCOPY)).isTrue();
        assertThat(mm.tree().find(A).has(VM_DONTCOPY)).isFalse();
        assertThat(mm.tree().find(A + 6 * P).has(VM_DONTCOPY)).isTrue();
    }

    @Test
    void madviseDontneedOnALockedVmaStopsWithEinvalKeepingEarlierZaps() {
        mm.mlock(A + 2 * P, 2 * P, 0);
        assertThatThrownBy(() -> mm.madvise(A, 4 * P, MADV_DONTNEED))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EINVAL));
        assertThat(mm.read(A)).isZero();
        assertThat(mm.read(A + 2 * P)).isEqualTo(A + 2 * P);
    }

    // ---------------------------------------------------------------- brk

    @Test
    void brkRefusalsReturnTheOldBreakAndChangeNothing() {
        long start = mm.startBrk();
        assertThat(mm.brk(start + 2 * P)).isEqualTo(start + 2 * P);
        mm.write(start, 9);
        MmSnapshot before = MmSnapshot.of(mm);
        assertThat(mm.brk(start - P)).isEqualTo(start + 2 * P);
        mm.mmapAnon(start + 8 * P, P, RW, MAP_FIXED);
        MmSnapshot withBlocker = MmSnapshot.of(mm);
        assertThat(mm.brk(start + 8 * P)).isEqualTo(start + 2 * P);
        assertThat(MmSnapshot.of(mm)).isEqualTo(withBlocker);
        mm.munmap(start + 8 * P, P);
        assertThat(MmSnapshot.of(mm)).isEqualTo(before);
        assertThat(mm.brk(start + P)).isEqualTo(start + P);
        assertThat(mm.tree().find(start + P)).isNull();
        assertThat(mm.read(start)).isEqualTo(9);
        assertThat(mm.brk(start)).isEqualTo(start);
        assertThat(mm.tree().find(start)).isNull();
    }

    // ---------------------------------------------------------------- mlock

    @Test
    void mlockErrors() {
        rejected(Errno.EINVAL, () -> mm.mlock(A, P, 0x4));
        rejected(Errno.ENOMEM, () -> mm.mlock(A + 4 * P, P, 0));
        rejected(Errno.EINVAL, () -> mm.mlockall(0));
        rejected(Errno.EINVAL, () -> mm.mlockall(MCL_ONFAULT));
        rejected(Errno.EINVAL, () -> mm.mlockall(0x10));
        rejected(Errno.ENOMEM, () -> mm.munlock(A + 4 * P, P));
    }

    @Test
    void mlockStopsAtAHoleKeepingEarlierChanges() {
        assertThatThrownBy(() -> mm.mlock(A + 2 * P, 6 * P, 0))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOMEM));
        assertThat(mm.tree().find(A + 2 * P).has(VM_LOCKED)).isTrue();
        assertThat(mm.tree().find(A).has(VM_LOCKED)).isFalse();
        assertThat(mm.tree().find(A + 6 * P).has(VM_LOCKED)).isFalse();
        mm.munlock(A, 4 * P);
        assertThat(mm.tree().all()).noneMatch(v -> v.has(VM_LOCKED));
    }

    @Test
    void mlockOfProtNoneIsEnomemAndLocksTheVma() {
        mm.mmapAnon(A + 20 * P, P, PROT_NONE, MAP_FIXED);
        assertThatThrownBy(() -> mm.mlock(A + 20 * P, P, 0))
                .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.ENOMEM));
        assertThat(mm.tree().find(A + 20 * P).has(VM_LOCKED)).isTrue();
    }

    @Test
    void mlockOfASpecialMappingLeavesItUnlocked() {
        mm.mmapDriver(A + 20 * P, P, RW, MAP_SHARED | MAP_FIXED, MergeSplitTest.driver("io", true), 0);
        mm.mlock(A + 20 * P, P, 0);
        assertThat(mm.tree().find(A + 20 * P).has(VM_LOCKED)).isFalse();
    }

    @Test
    void mlockallPopulatesAndLocksFutureMappings() {
        mm.mlockall(MCL_CURRENT | MCL_FUTURE);
        assertThat(mm.tree().all()).allMatch(v -> v.has(VM_LOCKED));
        long b = mm.mmapAnon(0, 2 * P, RW, 0);
        assertThat(mm.tree().find(b).has(VM_LOCKED)).isTrue();
        assertThat(mm.smaps().stream().filter(s -> s.header().startsWith(Long.toHexString(b))).findFirst()
                .orElseThrow().rssKb()).isEqualTo(8);
        mm.munlockall();
        assertThat(mm.tree().all()).noneMatch(v -> v.has(VM_LOCKED));
    }

    // ---------------------------------------------------------------- get_user_pages

    @Test
    void getUserPagesErrors() {
        rejected(Errno.EINVAL, () -> mm.getUserPages(A + 1, 1, false));
        rejected(Errno.EINVAL, () -> mm.getUserPages(A, 0, false));
        rejected(Errno.EINVAL, () -> mm.getUserPages(TASK_SIZE - P, 2, false));
        rejected(Errno.EFAULT, () -> mm.getUserPages(A + 4 * P, 1, false));
        rejected(Errno.EFAULT, () -> mm.getUserPages(A + 6 * P, 1, true));
    }

    @Test
    void getUserPagesStopsAtTheFirstPageItCannotPin() {
        var pages = mm.getUserPages(A + 2 * P, 4, true);
        assertThat(pages).hasSize(2);
        assertThat(pages.get(0).content()).isEqualTo(A + 2 * P);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.unpinUserPages(pages);
        assertThat(mm.pins()).isEmpty();
    }
}
