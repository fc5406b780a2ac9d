package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mem.PageAllocator;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.testing.CoarseTestStrategy;
import dev.mmlab.api.testing.TestFiles;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Every fault outcome, and the retry protocol with fault retry on and off. */
class FaultOutcomeTest {
    static final long P = PAGE_SIZE;
    static final int RW = PROT_READ | PROT_WRITE;

    private static Page pteAt(Mm mm, long addr) {
        PteTable t = mm.pageTables().lookup(addr);
        if (t == null) {
            return null;
        }
        t.ptl().lock();
        try {
            return t.page(addr);
        } finally {
            t.ptl().unlock();
        }
    }

    private static long onDisk(BackingFile f, long index) {
        return (f.inode() << 32) ^ (index + 1);
    }

    @Test
    void anonReadMapsTheZeroPageAndWriteAllocates() {
        Mm mm = CoarseTestStrategy.newMm();
        long a = mm.mmapAnon(0, 2 * P, RW, 0);
        assertThat(mm.fault(a, Access.READ)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(pteAt(mm, a)).isSameAs(Page.ZERO);
        assertThat(mm.read(a)).isZero();
        assertThat(mm.allocator().livePages()).isEmpty();
        mm.write(a, 5);
        assertThat(pteAt(mm, a).kind()).isEqualTo(Page.Kind.ANON);
        assertThat(mm.counters().get("fault.zero")).isEqualTo(1);
        assertThat(mm.counters().get("fault.cow")).isEqualTo(1);
        mm.write(a + P, 6);
        assertThat(mm.counters().get("fault.anon")).isEqualTo(1);
        assertThat(mm.read(a)).isEqualTo(5);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.exit();
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @Test
    void fileReadIsMajorThenMinorThroughThePageCache() {
        Mm mm = CoarseTestStrategy.newMm();
        BackingFile f = TestFiles.file(mm, 4);
        long a = mm.mmap(0, 4 * P, PROT_READ, MAP_PRIVATE, TestFiles.ro(f), 0);
        assertThat(mm.read(a + 2 * P)).isEqualTo(onDisk(f, 2));
        assertThat(mm.counters().get("fault.major") + mm.counters().get("coarse.fault_retry_io")).isPositive();
        mm.munmap(a, 4 * P);
        assertThat(f.cache().isCached(2)).isTrue();
        long b = mm.mmap(0, 4 * P, PROT_READ, MAP_SHARED, TestFiles.ro(f), 0);
        long minorBefore = mm.counters().get("fault.minor");
        assertThat(mm.read(b + 2 * P)).isEqualTo(onDisk(f, 2));
        assertThat(mm.counters().get("fault.minor")).isEqualTo(minorBefore + 1);
        assertThat(f.device().readCount()).isEqualTo(1);
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @Test
    void majorFaultWithoutRetryCountsMajor() {
        Mm mm = CoarseTestStrategy.newMm(MmConfig.defaults(), Map.of("faultRetry", "false"));
        BackingFile f = TestFiles.file(mm, 1);
        long a = mm.mmap(0, P, PROT_READ, MAP_PRIVATE, TestFiles.ro(f), 0);
        mm.read(a);
        assertThat(mm.counters().get("fault.major")).isEqualTo(1);
        assertThat(mm.counters().get("coarse.fault_retry_io")).isZero();
    }

    @Test
    void privateFileWriteCopiesAndLeavesTheFileAlone() {
        Mm mm = CoarseTestStrategy.newMm();
        BackingFile f = TestFiles.file(mm, 2);
        long a = mm.mmap(0, 2 * P, RW, MAP_PRIVATE, TestFiles.ro(f), 0);
        mm.write(a, 77);
        assertThat(mm.counters().get("fault.cow_file")).isEqualTo(1);
        assertThat(pteAt(mm, a).kind()).isEqualTo(Page.Kind.ANON);
        Page cached = f.cache().find(0);
        assertThat(cached.content()).isEqualTo(onDisk(f, 0));
        cached.put();
        // COW of a page already mapped read-only from the cache.
        assertThat(mm.read(a + P)).isEqualTo(onDisk(f, 1));
        assertThat(pteAt(mm, a + P).kind()).isEqualTo(Page.Kind.FILE);
        mm.write(a + P, 78);
        assertThat(mm.counters().get("fault.cow")).isEqualTo(1);
        assertThat(pteAt(mm, a + P).kind()).isEqualTo(Page.Kind.ANON);
        Page cached1 = f.cache().find(1);
        assertThat(cached1.content()).isEqualTo(onDisk(f, 1));
        cached1.put();
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @Test
    void sharedWriteGoesToThePageCacheAndIsSeenByAnotherMapping() {
        Mm mm = CoarseTestStrategy.newMm();
        BackingFile f = TestFiles.file(mm, 2);
        long a = mm.mmap(0, 2 * P, RW, MAP_SHARED, TestFiles.rw(f), 0);
        long b = mm.mmap(0, 2 * P, PROT_READ, MAP_SHARED, TestFiles.ro(f), 0);
        assertThat(mm.read(a)).isEqualTo(onDisk(f, 0));
        mm.write(a, 99);
        assertThat(mm.read(b)).isEqualTo(99);
        assertThat(pteAt(mm, a)).isSameAs(pteAt(mm, b));
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @Test
    void sharedAnonymousMemoryIsSharedBetweenItsPages() {
        Mm mm = CoarseTestStrategy.newMm();
        long a = mm.mmap(0, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS, null, 0);
        assertThat(mm.read(a)).isZero();
        mm.write(a, 3);
        long moved = mm.mremap(a, 2 * P, 4 * P, MREMAP_MAYMOVE, 0);
        assertThat(mm.read(moved)).isEqualTo(3);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.exit();
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @Test
    void segvAndAccessErrors() {
        Mm mm = CoarseTestStrategy.newMm();
        long a = mm.mmapAnon(0, P, PROT_READ, 0);
        assertThat(mm.fault(a + P, Access.READ)).isEqualTo(FaultOutcome.SEGV);
        assertThat(mm.fault(a, Access.WRITE)).isEqualTo(FaultOutcome.ACCESS);
        assertThat(mm.fault(a, Access.EXEC)).isEqualTo(FaultOutcome.ACCESS);
        assertThatThrownBy(() -> mm.write(a, 1)).isInstanceOfSatisfying(MemoryAccessException.class,
                e -> assertThat(e.outcome()).isEqualTo(FaultOutcome.ACCESS));
        assertThatThrownBy(() -> mm.read(a + P)).isInstanceOfSatisfying(MemoryAccessException.class,
                e -> assertThat(e.outcome()).isEqualTo(FaultOutcome.SEGV));
        long none = mm.mmapAnon(0, P, PROT_NONE, 0);
        assertThat(mm.fault(none, Access.READ)).isEqualTo(FaultOutcome.ACCESS);
        assertThat(mm.counters().get("fault.SEGV")).isEqualTo(2);
    }

    @Test
    void ioErrorAndBeyondEofAreBus() {
        Mm mm = CoarseTestStrategy.newMm();
        BlockDevice broken = new BlockDevice("bad", 8, 32, LatencyModel.none(), 1.0, 7);
        BackingFile f = TestFiles.file(mm, 2, broken);
        long a = mm.mmap(0, 2 * P, PROT_READ, MAP_PRIVATE, TestFiles.ro(f), 0);
        assertThat(mm.fault(a, Access.READ)).isEqualTo(FaultOutcome.BUS);
        assertThat(broken.errorCount()).isPositive();
        BackingFile small = BackingFile.regular("/tmp/small", 5, 100, BlockDevice.instant("sda", 8, 0), mm.allocator());
        long b = mm.mmap(0, 3 * P, PROT_READ, MAP_PRIVATE, TestFiles.ro(small), 0);
        assertThat(mm.fault(b, Access.READ)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(mm.fault(b + P, Access.READ)).isEqualTo(FaultOutcome.BUS);
        assertThatThrownBy(() -> mm.read(b + 2 * P)).isInstanceOfSatisfying(MemoryAccessException.class,
                e -> assertThat(e.outcome()).isEqualTo(FaultOutcome.BUS));
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @Test
    void allocatorLimitGivesOom() {
        PageAllocator limited = new PageAllocator(2, 0, LatencyModel.none(), 1);
        Mm mm = CoarseTestStrategy.newMm(MmConfig.defaults().withAllocator(limited));
        long a = mm.mmapAnon(0, 4 * P, RW, 0);
        mm.write(a, 1);
        mm.write(a + P, 2);
        assertThat(mm.fault(a + 2 * P, Access.WRITE)).isEqualTo(FaultOutcome.OOM);
        assertThatThrownBy(() -> mm.write(a + 3 * P, 3)).isInstanceOfSatisfying(MemoryAccessException.class,
                e -> assertThat(e.outcome()).isEqualTo(FaultOutcome.OOM));
        assertThat(limited.failureCount()).isEqualTo(2);
        assertThat(mm.read(a + 2 * P)).isZero();
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.munmap(a, P);
        mm.write(a + 2 * P, 4);
        assertThat(mm.read(a + 2 * P)).isEqualTo(4);
    }

    /**
     * A fault waits 400 ms for a slow disk while another thread mmaps (a writer of the mmap lock). With
     * {@code faultRetry} the fault dropped the lock, so the mmap finishes long before the fault; without it,
     * the mmap waits for the fault.
     */
    private static long[] writerBesideSlowFault(boolean faultRetry) throws Exception {
        Mm mm = CoarseTestStrategy.newMm(MmConfig.defaults(), Map.of("faultRetry", Boolean.toString(faultRetry)));
        BlockDevice slow = TestFiles.slowDevice(400);
        BackingFile f = TestFiles.file(mm, 1, slow);
        long a = mm.mmap(0, P, PROT_READ, MAP_PRIVATE, TestFiles.ro(f), 0);
        long t0 = System.nanoTime();
        CompletableFuture<Long> fault = CompletableFuture.supplyAsync(() -> {
            mm.read(a);
            return System.nanoTime() - t0;
        });
        while (slow.readCount() == 0) {
            Thread.onSpinWait();
        }
        mm.mmapAnon(0, P, RW, 0);
        long writerDone = System.nanoTime() - t0;
        long faultDone = fault.get(5, TimeUnit.SECONDS);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.counters().get("coarse.fault_retry_io")).isEqualTo(faultRetry ? 1 : 0);
        return new long[] {writerDone, faultDone};
    }

    @Test
    void faultRetryLetsAWriterInWhileTheFaultWaitsForIo() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            long[] on = writerBesideSlowFault(true);
            assertThat(on[0]).as("writer finished before the fault's I/O").isLessThan(on[1] - 200_000_000L);
            long[] off = writerBesideSlowFault(false);
            assertThat(off[0]).as("writer waited for the fault").isGreaterThanOrEqualTo(350_000_000L);
        });
    }

    @Test
    void driverFaultAndPopulate() {
        Mm mm = CoarseTestStrategy.newMm();
        long a = mm.mmapDriver(0, 2 * P, RW, MAP_SHARED | MAP_POPULATE, MergeSplitTest.driver("drv", false), 0);
        assertThat(mm.counters().get("fault.driver")).isEqualTo(2);
        assertThat(mm.read(a + P)).isEqualTo(a + P);
        mm.exit();
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @Test
    void populateAndGupOnAFileMapping() {
        Mm mm = CoarseTestStrategy.newMm();
        BackingFile f = TestFiles.file(mm, 4);
        long a = mm.mmap(0, 4 * P, PROT_READ, MAP_PRIVATE | MAP_POPULATE, TestFiles.ro(f), 0);
        assertThat(mm.smaps().get(0).rssKb()).isEqualTo(16);
        List<Page> pinned = mm.getUserPages(a, 4, false);
        assertThat(pinned).extracting(Page::index).containsExactly(0L, 1L, 2L, 3L);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.munmap(a, 4 * P);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.unpinUserPages(pinned);
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @Test
    void pinnedAnonPageIsReusedNotCopiedAfterMprotect() {
        Mm mm = CoarseTestStrategy.newMm();
        long a = mm.mmapAnon(0, P, RW, 0);
        mm.write(a, 1);
        List<Page> pinned = mm.getUserPages(a, 1, true);
        mm.mprotect(a, P, PROT_READ);
        mm.mprotect(a, P, RW);
        mm.write(a, 2);
        assertThat(pinned.get(0).content()).as("the pin still sees the process's page").isEqualTo(2);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.unpinUserPages(pinned);
    }

    @Test
    void stackGrowsDownOnAFaultJustBelowIt() {
        Mm mm = CoarseTestStrategy.newMm();
        long s = mm.setupStack(1);
        mm.write(s - 3 * P, 4);
        assertThat(mm.tree().find(s - 3 * P).start()).isEqualTo(s - 3 * P);
        assertThat(mm.counters().get("fault.stack_expand")).isEqualTo(1);
        assertThat(mm.readCmdline()).hasSize(1);
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }
}
