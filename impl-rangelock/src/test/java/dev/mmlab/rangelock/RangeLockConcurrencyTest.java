package dev.mmlab.rangelock;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.stats.LockWait;
import dev.mmlab.rwsem.RwsemStrategy;
import dev.mmlab.testing.TestMms;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Who excludes whom: the strategy's claims, each against a held operation. */
class RangeLockConcurrencyTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** How long an operation that must wait is watched not finishing. */
    private static final long BLOCKED_MS = 200;

    private ExecutorService pool;

    static String[] impls() {
        return RangeLockTesting.impls();
    }

    @BeforeEach
    void startPool() {
        pool = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stopPool() throws InterruptedException {
        pool.shutdownNow();
        assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }

    /** An munmap held inside its driver's close callback (its write range held) does not stop a fault elsewhere. */
    @ParameterizedTest
    @MethodSource("impls")
    void aFaultProceedsWhileAnMunmapOfADisjointRangeHoldsItsLock(String impl) {
        Mm mm = RangeLockTesting.newMm(impl);
        assertTimeoutPreemptively(TIMEOUT, () -> {
            FaultWhileMunmapHeld run = faultWhileMunmapHeld(mm);
            assertThat(run.faultFinishedWhileHeld).as("the fault finished while the munmap held its range").isTrue();
            assertThat(mm.waits().count()).isZero();
        });
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    /**
     * The same scenario under the rwsem baseline without munmap's downgrade (which lets readers in during the
     * zap and close, Linux 4.20): the fault waits. Shows the test above can fail.
     */
    @Test
    void underRwsemTheSameFaultWaitsForTheMunmap() {
        Mm mm = TestMms.create(new RwsemStrategy(), java.util.Map.of("munmapDowngrade", "false"));
        assertTimeoutPreemptively(TIMEOUT, () -> {
            FaultWhileMunmapHeld run = faultWhileMunmapHeld(mm);
            assertThat(run.faultFinishedWhileHeld).isFalse();
            assertThat(mm.waits().falseConflicts()).isPositive();
        });
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    private record FaultWhileMunmapHeld(boolean faultFinishedWhileHeld) {}

    private FaultWhileMunmapHeld faultWhileMunmapHeld(Mm mm) throws Exception {
        long anon = mm.mmapAnon(64 * PMD_SIZE, 4 * PMD_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
        BlockingDriver driver = new BlockingDriver().blockIn(VmOpsCallback.CLOSE);
        long dev = mm.mmapDriver(256 * PMD_SIZE, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, driver, 0);
        Future<?> munmap = pool.submit(() -> mm.munmap(dev, 4 * PAGE_SIZE));
        driver.awaitEntered(VmOpsCallback.CLOSE);
        Future<?> fault = pool.submit(() -> mm.write(anon + PMD_SIZE, 42));
        boolean finished = finishes(fault);
        driver.release(VmOpsCallback.CLOSE);
        munmap.get();
        fault.get();
        assertThat(mm.read(anon + PMD_SIZE)).isEqualTo(42);
        return new FaultWhileMunmapHeld(finished);
    }

    /** A fault held inside its driver's fault callback keeps an munmap of that VMA out until it finishes. */
    @ParameterizedTest
    @MethodSource("impls")
    void anMunmapWaitsForAFaultOnTheSameRange(String impl) {
        Mm mm = RangeLockTesting.newMm(impl);
        assertTimeoutPreemptively(TIMEOUT, () -> {
            BlockingDriver driver = new BlockingDriver().blockIn(VmOpsCallback.FAULT);
            long dev = mm.mmapDriver(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, driver, 0);
            // The fault itself, not a CPU read: a read retries its PTE lookup after the fault and may then lose
            // the page to the munmap, which is correct but not what this test watches.
            Future<FaultOutcome> fault = pool.submit(() -> mm.fault(dev + PAGE_SIZE, Access.READ));
            driver.awaitEntered(VmOpsCallback.FAULT);
            Future<?> munmap = pool.submit(() -> mm.munmap(dev, 4 * PAGE_SIZE));
            assertThat(finishes(munmap)).as("munmap finished while a fault held the range").isFalse();
            driver.release(VmOpsCallback.FAULT);
            assertThat(fault.get()).isEqualTo(FaultOutcome.MAPPED);
            munmap.get();
            assertThat(mm.tree().size()).isZero();
            List<LockWait> waits = mm.waits().recent();
            assertThat(waits).hasSize(1);
            assertThat(waits.get(0).waiter().op()).isEqualTo(OpKind.MUNMAP);
            assertThat(waits.get(0).blockers()).extracting(LockIntent::op).containsExactly(OpKind.FAULT);
            assertThat(waits.get(0).falseConflict()).isFalse();
        });
        assertThat(InvariantChecker.check(mm)).as("the fault's page went with the munmap").isEmpty();
    }

    /** A fault on a range an munmap holds waits for it, then sees the munmap's result. */
    @ParameterizedTest
    @MethodSource("impls")
    void aFaultWaitsForAnMunmapOfTheSameRangeThenSeesItsResult(String impl) {
        Mm mm = RangeLockTesting.newMm(impl);
        assertTimeoutPreemptively(TIMEOUT, () -> {
            long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
            // The munmap's lock, taken as the engine takes it; the test releases it after unmapping by hand.
            MmLockGuard munmapLock = mm.mmLock().lock(LockIntent.of(OpKind.MUNMAP, LockIntent.Mode.WRITE, a, a + 4 * PAGE_SIZE));
            Future<FaultOutcome> fault = pool.submit(() -> mm.fault(a + PAGE_SIZE, Access.WRITE));
            assertThat(finishes(fault)).as("fault finished inside the munmap's range").isFalse();
            munmapLock.close();
            assertThat(fault.get()).isEqualTo(FaultOutcome.MAPPED);
            mm.munmap(a, 4 * PAGE_SIZE);
            MmLockGuard again = mm.mmLock().lock(LockIntent.of(OpKind.MUNMAP, LockIntent.Mode.WRITE, a, a + 4 * PAGE_SIZE));
            Future<?> late = pool.submit(() -> mm.read(a + PAGE_SIZE));
            again.close();
            try {
                late.get();
                throw new AssertionError("read of an unmapped page succeeded");
            } catch (java.util.concurrent.ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(MemoryAccessException.class);
                assertThat(((MemoryAccessException) e.getCause()).outcome()).isEqualTo(FaultOutcome.SEGV);
            }
        });
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    /**
     * An mmap that merges with its neighbour locks the neighbour: it waits for a fault holding a page of the
     * neighbour, and a fault on the neighbour waits for an mmap beside it that is still inside its lock.
     */
    @ParameterizedTest
    @MethodSource("impls")
    void anMmapThatMergesWithANeighbourExcludesFaultsOnThatNeighbour(String impl) {
        Mm mm = RangeLockTesting.newMm(impl);
        assertTimeoutPreemptively(TIMEOUT, () -> {
            long n = mm.mmapAnon(64 * PMD_SIZE, 4 * PMD_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
            long lastPage = n + 4 * PMD_SIZE - PAGE_SIZE;
            long other = mm.mmapAnon(128 * PMD_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
            // A fault in progress on the neighbour's first page, as the fault handler takes it.
            MmLockGuard fault = mm.mmLock().lock(LockIntent.of(OpKind.FAULT, LockIntent.Mode.READ, n, n + PAGE_SIZE)
                    .withRange(n, n + PMD_SIZE));
            Future<Long> mmap = pool.submit(() -> mm.mmapAnon(n + 4 * PMD_SIZE, PMD_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED));
            assertThat(finishes(mmap)).as("the merging mmap finished while a fault held the neighbour").isFalse();
            fault.close();
            mmap.get();
            assertThat(mm.tree().find(n).end()).as("merged").isEqualTo(n + 5 * PMD_SIZE);
            LockWait wait = mm.waits().recent().get(0);
            assertThat(wait.waiter().op()).isEqualTo(OpKind.MMAP);
            assertThat(wait.falseConflict()).as("a wait caused only by a merge is false").isTrue();

            // The other direction: a driver mmap beside the (merged) VMA held in its mmap hook.
            BlockingDriver driver = new BlockingDriver().blockIn(VmOpsCallback.MMAP);
            long end = n + 5 * PMD_SIZE;
            Future<Long> devMap = pool.submit(() -> mm.mmapDriver(end, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_FIXED, driver, 0));
            driver.awaitEntered(VmOpsCallback.MMAP);
            Future<?> neighbourFault = pool.submit(() -> mm.write(end - PAGE_SIZE, 5));
            Future<?> otherVma = pool.submit(() -> mm.write(other, 6));
            assertThat(finishes(otherVma)).as("a fault on another VMA is not excluded").isTrue();
            assertThat(finishes(neighbourFault)).as("a fault on the neighbour finished during the mmap").isFalse();
            driver.release(VmOpsCallback.MMAP);
            devMap.get();
            neighbourFault.get();
            assertThat(mm.read(end - PAGE_SIZE)).isEqualTo(5);
            assertThat(mm.read(lastPage)).isZero();
        });
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    /** Two mmaps without an address race for the same gap, many times: two disjoint VMAs every time. */
    @ParameterizedTest
    @MethodSource("impls")
    void theNoAddressMmapRaceEndsWithTwoDisjointVmas(String impl) {
        Mm mm = RangeLockTesting.newMm(impl);
        int rounds = 300;
        long len = 3 * PAGE_SIZE;
        assertTimeoutPreemptively(TIMEOUT, () -> {
            CyclicBarrier start = new CyclicBarrier(2);
            for (int round = 0; round < rounds; round++) {
                Future<Long> x = pool.submit(() -> {
                    start.await();
                    return mm.mmapAnon(0, len, PROT_READ, 0);
                });
                Future<Long> y = pool.submit(() -> {
                    start.await();
                    return mm.mmapAnon(0, len, PROT_READ | PROT_WRITE, 0);
                });
                long a = x.get();
                long b = y.get();
                assertThat(a + len <= b || b + len <= a).as("round %d: %x and %x overlap", round, a, b).isTrue();
                List<Vma> vmas = mm.tree().all();
                assertThat(vmas).hasSize(2);
                assertThat(mm.tree().find(a).permissions()).isEqualTo("r--p");
                assertThat(mm.tree().find(b).permissions()).isEqualTo("rw-p");
                assertThat(InvariantChecker.check(mm)).isEmpty();
                mm.munmap(a, len);
                mm.munmap(b, len);
            }
        });
        // Both outcomes of the race are exercised: sometimes the loser found the gap taken and went coarse.
        assertThat(mm.counters().get("mmap.ok")).isEqualTo(2L * rounds);
    }

    /** Whether {@code f} finishes within {@value #BLOCKED_MS} ms. */
    private static boolean finishes(Future<?> f) throws Exception {
        try {
            f.get(BLOCKED_MS, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }
}
