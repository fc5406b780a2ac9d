package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.Access;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.testing.CoarseTestStrategy;
import dev.mmlab.api.testing.TestFiles;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Split and merge as mm/vma.c decides them, checked on the VMA list and on /proc/pid/maps text. */
class MergeSplitTest {
    static final long A = 0x7f0000100000L;
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
        mm.exit();
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    private long anon(long addr, long pages, int prot) {
        return mm.mmapAnon(addr, pages * P, prot, MAP_FIXED);
    }

    private List<long[]> ranges() {
        return mm.tree().all().stream().map(v -> new long[] {v.start(), v.end()}).toList();
    }

    private void assertRanges(long... bounds) {
        List<Vma> all = mm.tree().all();
        assertThat(all).as(mm.procMaps()).hasSize(bounds.length / 2);
        for (int i = 0; i < all.size(); i++) {
            assertThat(all.get(i).start()).as("start of VMA %d in%n%s", i, mm.procMaps()).isEqualTo(bounds[2 * i]);
            assertThat(all.get(i).end()).as("end of VMA %d in%n%s", i, mm.procMaps()).isEqualTo(bounds[2 * i + 1]);
        }
    }

    @Test
    void newVmaMergesWithPrev() {
        anon(A, 2, RW);
        anon(A + 2 * P, 2, RW);
        assertRanges(A, A + 4 * P);
    }

    @Test
    void newVmaMergesWithNext() {
        anon(A + 2 * P, 2, RW);
        anon(A, 2, RW);
        assertRanges(A, A + 4 * P);
    }

    @Test
    void newVmaMergesWithBoth() {
        anon(A, 2, RW);
        anon(A + 4 * P, 2, RW);
        assertRanges(A, A + 2 * P, A + 4 * P, A + 6 * P);
        anon(A + 2 * P, 2, RW);
        assertRanges(A, A + 6 * P);
    }

    @Test
    void newVmaMergesWithNoneWhenFlagsDiffer() {
        anon(A, 2, RW);
        anon(A + 4 * P, 2, RW);
        anon(A + 2 * P, 2, PROT_READ);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P, A + 4 * P, A + 6 * P);
    }

    @Test
    void mprotectMiddlePrefixSuffixAndBack() {
        anon(A, 6, RW);
        mm.write(A, 1);
        mm.write(A + 5 * P, 6);
        mm.mprotect(A + 2 * P, 2 * P, PROT_READ);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P, A + 4 * P, A + 6 * P);
        mm.mprotect(A + 2 * P, 2 * P, RW);
        assertRanges(A, A + 6 * P);
        mm.mprotect(A, 2 * P, PROT_READ);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 6 * P);
        mm.mprotect(A, 2 * P, RW);
        assertRanges(A, A + 6 * P);
        mm.mprotect(A + 4 * P, 2 * P, PROT_NONE);
        assertRanges(A, A + 4 * P, A + 4 * P, A + 6 * P);
        mm.mprotect(A + 4 * P, 2 * P, RW);
        assertRanges(A, A + 6 * P);
        assertThat(mm.read(A)).isEqualTo(1);
        assertThat(mm.read(A + 5 * P)).isEqualTo(6);
    }

    @Test
    void mprotectAcrossTwoVmasMergesThemIntoTheirNeighbours() {
        anon(A, 2, RW);
        anon(A + 2 * P, 2, PROT_READ);
        anon(A + 4 * P, 2, RW);
        mm.mprotect(A + 2 * P, 2 * P, RW);
        assertRanges(A, A + 6 * P);
    }

    /** Two adjacent anon VMAs that differ only by anon identity; {@code faultSecond} decides if the second has one. */
    private void adjacentAnonWithIdentities(boolean faultSecond) {
        anon(A + 2 * P, 2, RW);
        if (faultSecond) {
            mm.write(A + 2 * P, 2);
        }
        mm.madvise(A + 2 * P, 2 * P, MADV_DONTFORK);
        anon(A, 2, RW);
        mm.write(A, 1);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P);
        mm.madvise(A + 2 * P, 2 * P, MADV_DOFORK);
    }

    @Test
    void anonIdentityMismatchPreventsMerge() {
        adjacentAnonWithIdentities(true);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P);
        assertThat(mm.tree().find(A).anon()).isNotSameAs(mm.tree().find(A + 2 * P).anon());
    }

    @Test
    void sideWithoutIdentityMerges() {
        adjacentAnonWithIdentities(false);
        assertRanges(A, A + 4 * P);
        assertThat(mm.read(A)).isEqualTo(1);
    }

    @Test
    void fileMappingAtNonContiguousOffsetsDoesNotMerge() {
        BackingFile f = TestFiles.file(mm, 16);
        mm.mmap(A, 2 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, TestFiles.ro(f), 0);
        mm.mmap(A + 2 * P, 2 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, TestFiles.ro(f), 4 * P);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P);
        mm.mmap(A + 2 * P, 2 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, TestFiles.ro(f), 2 * P);
        assertRanges(A, A + 4 * P);
    }

    @Test
    void differentFilesDoNotMerge() {
        BackingFile f = TestFiles.file(mm, 16);
        BackingFile g = TestFiles.file(mm, 16);
        mm.mmap(A, 2 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, TestFiles.ro(f), 0);
        mm.mmap(A + 2 * P, 2 * P, PROT_READ, MAP_PRIVATE | MAP_FIXED, TestFiles.ro(g), 2 * P);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P);
    }

    @Test
    void faultedAnonMovedByMremapKeepsItsPgoffAndDoesNotMerge() {
        anon(A, 2, RW);
        long b = anon(A + 64 * P, 2, RW);
        mm.write(b, 7);
        long moved = mm.mremap(b, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, A + 2 * P);
        assertThat(moved).isEqualTo(A + 2 * P);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P);
        assertThat(mm.tree().find(A + 2 * P).pgoff()).isEqualTo(b >>> PAGE_SHIFT);
        assertThat(mm.read(A + 2 * P)).isEqualTo(7);
    }

    @Test
    void unfaultedAnonMovedByMremapTakesNewPgoffAndMerges() {
        anon(A, 2, RW);
        long b = anon(A + 64 * P, 2, RW);
        mm.mremap(b, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_FIXED, A + 2 * P);
        assertRanges(A, A + 4 * P);
    }

    @Test
    void readOnlyThenWritableGetsVmAccountAndMergesWithWritableNeighbour() {
        anon(A, 2, PROT_READ);
        anon(A + 2 * P, 2, RW);
        assertThat(mm.tree().find(A).has(VM_ACCOUNT)).isFalse();
        assertThat(mm.tree().find(A + 2 * P).has(VM_ACCOUNT)).isTrue();
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P);
        mm.mprotect(A, 2 * P, RW);
        assertRanges(A, A + 4 * P);
        assertThat(mm.tree().find(A).has(VM_ACCOUNT)).isTrue();
    }

    @Test
    void noreserveNeighbourHasNoVmAccountAndDoesNotMerge() {
        anon(A, 2, RW);
        mm.mmapAnon(A + 2 * P, 2 * P, RW, MAP_FIXED | MAP_NORESERVE);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P);
    }

    @Test
    void unfaultedAnonMadeReadOnlyDropsVmAccountAndMergesWithReadOnlyNeighbour() {
        // Linux 6.7+: mprotect_fixup clears VM_ACCOUNT of an anon VMA without anon_vma going read-only.
        anon(A, 2, RW);
        mm.mprotect(A, 2 * P, PROT_READ);
        assertThat(mm.tree().find(A).has(VM_ACCOUNT)).isFalse();
        anon(A + 2 * P, 2, PROT_READ);
        assertRanges(A, A + 4 * P);
    }

    @Test
    void faultedAnonMadeReadOnlyKeepsVmAccount() {
        anon(A, 2, RW);
        mm.write(A, 3);
        mm.mprotect(A, 2 * P, PROT_READ);
        assertThat(mm.tree().find(A).has(VM_ACCOUNT)).isTrue();
        anon(A + 2 * P, 2, PROT_READ);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P);
    }

    static VmOps driver(String name, boolean special) {
        return new VmOps() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public LockNeed lockNeed(VmOpsCallback callback) {
                return LockNeed.FINE;
            }

            @Override
            public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
                return VmFault.mapped(context.allocator().allocateDevice(addr));
            }

            @Override
            public long mmap(VmOpsContext context, Vma vma) {
                return special ? vma.flags() | VM_IO | VM_PFNMAP | VM_DONTEXPAND : vma.flags();
            }
        };
    }

    @Test
    void driverVmasNeverMerge() {
        VmOps ops = driver("drv", false);
        mm.mmapDriver(A, 2 * P, RW, MAP_SHARED | MAP_FIXED, ops, 0);
        mm.mmapDriver(A + 2 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, ops, 2 * P);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P);
        VmOps special = driver("special", true);
        mm.mmapDriver(A + 4 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, special, 0);
        mm.mmapDriver(A + 6 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, special, 2 * P);
        assertRanges(A, A + 2 * P, A + 2 * P, A + 4 * P, A + 4 * P, A + 6 * P, A + 6 * P, A + 8 * P);
        assertThat(mm.tree().find(A + 4 * P).isSpecial()).isTrue();
    }

    @Test
    void munmapMiddleSplitsInThree() {
        anon(A, 6, RW);
        mm.munmap(A + 2 * P, P);
        assertRanges(A, A + 2 * P, A + 3 * P, A + 6 * P);
        assertThat(mm.tree().find(A + 3 * P).pgoff()).isEqualTo((A + 3 * P) >>> PAGE_SHIFT);
    }

    // -------------------------------------------------------------- /proc/pid/maps text

    @Test
    void procMapsMatchesKernelFormatForFileAnonAndSharedAnon() {
        BlockDevice disk = BlockDevice.instant("vda", 0xfe, 0);
        BackingFile f = BackingFile.regular("/tmp/vmaops.RkkLYf", 2146334, 0x100 * P, disk, mm.allocator());
        mm.mmap(0x7ff943a09000L, 8 * P, RW, MAP_PRIVATE | MAP_FIXED, TestFiles.rw(f), 9 * P);
        mm.mmapAnon(0x7ff943a25000L, 7 * P, PROT_READ, MAP_FIXED);
        mm.mmapAnon(0x7ff943a32000L, 5 * P, PROT_NONE, MAP_FIXED);
        mm.mmap(0x7ff943ac5000L, 10 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, null, 0);
        String[] lines = mm.procMaps().split("\n", -1);
        // Oracle lines from /work/shared/oracle/vmaops-1.maps (the shmem inode differs: it is per-mm here).
        assertThat(lines[0]).isEqualTo(
                "7ff943a09000-7ff943a11000 rw-p 00009000 fe:00 2146334                    /tmp/vmaops.RkkLYf");
        assertThat(lines[1]).isEqualTo("7ff943a25000-7ff943a2c000 r--p 00000000 00:00 0 ");
        assertThat(lines[2]).isEqualTo("7ff943a32000-7ff943a37000 ---p 00000000 00:00 0 ");
        assertThat(lines[3]).isEqualTo(
                "7ff943ac5000-7ff943acf000 rw-s 00000000 00:01 1                          /dev/zero (deleted)");
        assertThat(lines).hasSize(5);
        assertThat(lines[4]).isEmpty();
    }

    @Test
    void procMapsNamesHeapAndStack() {
        mm.setStartBrk(0x555555600000L);
        mm.brk(0x555555600000L + 3 * P);
        mm.setupStack(2);
        String maps = mm.procMaps();
        assertThat(maps).contains("555555600000-555555603000 rw-p 00000000 00:00 0                          [heap]");
        assertThat(maps).containsPattern("7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 +\\[stack\\]");
    }

    @Test
    void anonOffsetColumnIsZeroEvenAfterSplit() {
        anon(A, 4, RW);
        mm.mprotect(A + 2 * P, 2 * P, PROT_READ);
        assertThat(mm.procMaps()).isEqualTo(String.format(
                "%x-%x rw-p 00000000 00:00 0 %n%x-%x r--p 00000000 00:00 0 %n", A, A + 2 * P, A + 2 * P, A + 4 * P)
                .replace("\r\n", "\n"));
        assertThat(ranges()).hasSize(2);
    }
}
