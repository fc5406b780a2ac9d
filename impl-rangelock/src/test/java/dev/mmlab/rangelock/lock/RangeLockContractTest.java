package dev.mmlab.rangelock.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.rangelock.lock.RangeLock.Handle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link RangeLock} implementation must meet. Each implementation runs it by
 * extending this class; implementation-specific tests (fairness, for instance) go in the subclass.
 */
abstract class RangeLockContractTest {

    static final long COARSE_START = 0;
    static final long COARSE_END = Long.MAX_VALUE;

    RangeLock lock;

    /** A fresh, idle lock of the implementation under test. */
    abstract RangeLock newLock();

    @BeforeEach
    void createLock() {
        lock = newLock();
        assertThat(lock.isIdle()).as("new lock is idle").isTrue();
    }

    @AfterEach
    void lockIsLeftIdle() {
        assertThat(lock.isIdle()).as("every test releases everything it took: %s", lock).isTrue();
        assertThat(lock.holders()).isEmpty();
    }

    @Test
    void rejectsEmptyAndInvertedRanges() {
        for (long[] r : new long[][] {{5, 5}, {6, 5}, {Long.MAX_VALUE, 0}}) {
            assertThatThrownBy(() -> lock.lockRead(r[0], r[1])).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> lock.lockWrite(r[0], r[1])).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> lock.tryLockRead(r[0], r[1])).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> lock.tryLockWrite(r[0], r[1])).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void handleDescribesItsRange() throws InterruptedException {
        Handle w = lock.lockWrite(3, 7);
        Handle r = lock.tryLockRead(7, 9);
        assertThat(w.start()).isEqualTo(3);
        assertThat(w.end()).isEqualTo(7);
        assertThat(w.isWrite()).isTrue();
        assertThat(r.start()).isEqualTo(7);
        assertThat(r.end()).isEqualTo(9);
        assertThat(r.isWrite()).isFalse();
        w.unlock();
        r.unlock();
    }

    @Test
    void writeExcludesEveryOverlappingRangeIncludingContainedAndContaining() {
        Handle held = lock.tryLockWrite(10, 20);
        assertThat(held).isNotNull();
        long[][] overlapping = {{12, 13}, {10, 11}, {19, 20}, {10, 20}, {0, 11}, {19, 30}, {0, 100}, {-5, 15}};
        for (long[] r : overlapping) {
            assertThat(lock.tryLockRead(r[0], r[1])).as("read [%d,%d)", r[0], r[1]).isNull();
            assertThat(lock.tryLockWrite(r[0], r[1])).as("write [%d,%d)", r[0], r[1]).isNull();
        }
        held.unlock();
    }

    @Test
    void touchingEndsDoNotConflict() {
        Handle held = lock.tryLockWrite(10, 20);
        Handle below = lock.tryLockWrite(0, 10);
        Handle above = lock.tryLockWrite(20, 30);
        assertThat(below).isNotNull();
        assertThat(above).isNotNull();
        held.unlock();
        below.unlock();
        above.unlock();
    }

    @Test
    void readersShareAndExcludeOverlappingWriters() {
        Handle r1 = lock.tryLockRead(0, 10);
        Handle r2 = lock.tryLockRead(5, 15);
        Handle r3 = lock.tryLockRead(0, 10);
        assertThat(List.of(r1, r2, r3)).doesNotContainNull();
        assertThat(lock.tryLockWrite(9, 10)).isNull();
        assertThat(lock.tryLockWrite(14, 20)).isNull();
        Handle w = lock.tryLockWrite(15, 16);
        assertThat(w).isNotNull();
        for (Handle h : List.of(r1, r2, r3, w)) {
            h.unlock();
        }
    }

    @Test
    void coarseWriteExcludesFineRanges() {
        Handle coarse = lock.tryLockWrite(COARSE_START, COARSE_END);
        assertThat(coarse).isNotNull();
        for (long[] r : new long[][] {{0, 1}, {4096, 8192}, {Long.MAX_VALUE - 1, Long.MAX_VALUE}}) {
            assertThat(lock.tryLockRead(r[0], r[1])).isNull();
            assertThat(lock.tryLockWrite(r[0], r[1])).isNull();
        }
        assertThat(lock.tryLockRead(COARSE_START, COARSE_END)).isNull();
        coarse.unlock();
    }

    @Test
    void fineRangesExcludeCoarseWriteAndFineWritesExcludeCoarseRead() {
        Handle fineRead = lock.tryLockRead(4096, 8192);
        assertThat(lock.tryLockWrite(COARSE_START, COARSE_END)).isNull();
        Handle coarseRead = lock.tryLockRead(COARSE_START, COARSE_END);
        assertThat(coarseRead).as("coarse read shares with a fine read").isNotNull();
        coarseRead.unlock();
        fineRead.unlock();

        Handle fineWrite = lock.tryLockWrite(Long.MAX_VALUE - 4096, Long.MAX_VALUE);
        assertThat(lock.tryLockRead(COARSE_START, COARSE_END)).isNull();
        assertThat(lock.tryLockWrite(COARSE_START, COARSE_END)).isNull();
        fineWrite.unlock();
    }

    @Test
    void coarseReadSharesWithFineReadsOnly() {
        Handle coarse = lock.tryLockRead(COARSE_START, COARSE_END);
        Handle fine = lock.tryLockRead(64, 128);
        assertThat(fine).isNotNull();
        assertThat(lock.tryLockWrite(128, 256)).isNull();
        fine.unlock();
        coarse.unlock();
    }

    @Test
    void enqueueOnAFreeRangeIsGrantedAtOnceAndKeepsItsOwner() throws InterruptedException {
        RangeLock.Ticket t = lock.enqueue(0, 10, true, "owner-a");
        assertThat(t.isGranted()).isTrue();
        assertThat(t.blockers()).isEmpty();
        Handle h = t.await();
        assertThat(h.owner()).isEqualTo("owner-a");
        assertThat(lock.holders()).extracting(Handle::owner).containsExactly("owner-a");
        assertThat(lock.lockRead(20, 30).owner()).as("plain lock methods give no owner").isNull();
        h.unlock();
        lock.holders().forEach(Handle::unlock);
    }

    @Test
    void enqueueNamesTheOwnersItWaitsForAndAwaitGetsTheRangeAfterThem() throws Exception {
        Handle a = lock.enqueue(0, 10, true, "a").await();
        Handle b = lock.enqueue(20, 30, false, "b").await();
        Handle c = lock.enqueue(40, 50, false, "c").await();
        Contender waiter = Contender.start("writer[5,25)", () -> {
            RangeLock.Ticket t = lock.enqueue(5, 25, true, "w");
            assertThat(t.isGranted()).isFalse();
            assertThat(t.blockers()).as("the conflicting owners, not the disjoint one").containsExactlyInAnyOrder("a", "b");
            return t.await();
        });
        waiter.awaitParked();
        a.unlock();
        waiter.assertStillWaiting();
        b.unlock();
        Handle w = waiter.granted();
        assertThat(w.owner()).isEqualTo("w");
        w.unlock();
        c.unlock();
    }

    @Test
    void awaitUninterruptiblyKeepsWaitingThroughAnInterruptAndRestoresIt() throws Exception {
        Handle held = lock.lockWrite(0, 10);
        java.util.concurrent.atomic.AtomicBoolean flagAfter = new java.util.concurrent.atomic.AtomicBoolean();
        Contender waiter = Contender.start("uninterruptible", () -> {
            Handle h = lock.enqueue(0, 10, false, null).awaitUninterruptibly();
            flagAfter.set(Thread.currentThread().isInterrupted());
            return h;
        });
        waiter.awaitParked();
        waiter.interrupt();
        waiter.assertStillWaiting();
        held.unlock();
        waiter.granted().unlock();
        assertThat(flagAfter).isTrue();
    }

    @Test
    void anInterruptedAwaitWithdrawsTheRequest() throws Exception {
        Handle held = lock.lockWrite(0, 10);
        Contender waiter = Contender.start("interruptible", () -> lock.enqueue(5, 15, true, null).await());
        waiter.awaitParked();
        waiter.interrupt();
        assertThat(waiter.failure()).isInstanceOf(InterruptedException.class);
        Handle other = lock.tryLockWrite(10, 15);
        assertThat(other).as("the withdrawn request blocks nobody").isNotNull();
        other.unlock();
        held.unlock();
    }

    @Test
    void blockedWriterProceedsWhenContainingWriterReleases() throws Exception {
        Handle held = lock.lockWrite(0, 10);
        Contender contained = Contender.startBlocked("writer[3,4)", () -> lock.lockWrite(3, 4));
        contained.assertStillWaiting();
        held.unlock();
        Handle h = contained.granted();
        assertThat(h.start()).isEqualTo(3);
        assertThat(h.isWrite()).isTrue();
        h.unlock();
    }

    @Test
    void writerWaitsForAllOverlappingReaders() throws Exception {
        Handle r1 = lock.lockRead(0, 10);
        Handle r2 = lock.lockRead(8, 12);
        Contender writer = Contender.startBlocked("writer[5,15)", () -> lock.lockWrite(5, 15));
        r1.unlock();
        writer.assertStillWaiting();
        r2.unlock();
        writer.granted().unlock();
    }

    @Test
    void readerWaitsForOverlappingWriter() throws Exception {
        Handle w = lock.lockWrite(0, 10);
        Contender reader = Contender.startBlocked("reader[9,20)", () -> lock.lockRead(9, 20));
        reader.assertStillWaiting();
        w.unlock();
        reader.granted().unlock();
    }

    @Test
    void coarseAndFineBlockEachOtherBothWays() throws Exception {
        Handle fine = lock.lockRead(4096, 8192);
        Contender coarseWriter = Contender.startBlocked("coarse writer", () -> lock.lockWrite(COARSE_START, COARSE_END));
        fine.unlock();
        Handle coarse = coarseWriter.granted();

        Contender fineReader = Contender.startBlocked("fine reader", () -> lock.lockRead(Long.MAX_VALUE - 1, Long.MAX_VALUE));
        fineReader.assertStillWaiting();
        coarse.unlock();
        fineReader.granted().unlock();
    }

    @Test
    void holdersIsASnapshotOfGrantedHandles() throws Exception {
        Handle w = lock.lockWrite(0, 10);
        Handle r1 = lock.lockRead(20, 30);
        Handle r2 = lock.lockRead(25, 40);
        assertThat(lock.holders()).containsExactlyInAnyOrder(w, r1, r2);

        Contender waiter = Contender.startBlocked("writer[5,6)", () -> lock.lockWrite(5, 6));
        assertThat(lock.holders()).as("a waiter is not a holder").containsExactlyInAnyOrder(w, r1, r2);
        assertThat(lock.isIdle()).isFalse();

        w.unlock();
        Handle granted = waiter.granted();
        assertThat(lock.holders()).containsExactlyInAnyOrder(granted, r1, r2);
        for (Handle h : List.of(granted, r1, r2)) {
            h.unlock();
        }
        assertThat(lock.holders()).isEmpty();
    }

    @Test
    void isIdleTracksHeldRanges() throws InterruptedException {
        Handle h = lock.lockRead(0, 1);
        assertThat(lock.isIdle()).isFalse();
        h.unlock();
        assertThat(lock.isIdle()).isTrue();
        Handle coarse = lock.lockWrite(COARSE_START, COARSE_END);
        assertThat(lock.isIdle()).isFalse();
        coarse.unlock();
        assertThat(lock.isIdle()).isTrue();
    }

    @Test
    void secondUnlockThrowsAndLeavesTheLockUsable() throws InterruptedException {
        Handle w = lock.lockWrite(0, 10);
        Handle r = lock.lockRead(10, 20);
        w.unlock();
        r.unlock();
        assertThatThrownBy(w::unlock).isInstanceOf(IllegalStateException.class).hasMessageContaining("already unlocked");
        assertThatThrownBy(r::unlock).isInstanceOf(IllegalStateException.class);
        assertThat(lock.isIdle()).isTrue();

        Handle again = lock.tryLockWrite(0, 20);
        assertThat(again).isNotNull();
        assertThatThrownBy(w::unlock).isInstanceOf(IllegalStateException.class);
        assertThat(lock.holders()).containsExactly(again);
        again.unlock();
    }

    @Test
    void interruptedWriterLeavesTheLockAsIfItNeverCame() throws Exception {
        Handle holder = lock.lockWrite(0, 10);
        Contender interrupted = Contender.startBlocked("writer[0,10)", () -> lock.lockWrite(0, 10));
        List<Handle> before = lock.holders();
        Contender behind = Contender.startBlocked("reader[5,15)", () -> lock.lockRead(5, 15));

        interrupted.interrupt();
        assertThat(interrupted.failure()).isInstanceOf(InterruptedException.class);
        assertThat(lock.holders()).containsExactlyInAnyOrderElementsOf(before);
        behind.assertStillWaiting();

        holder.unlock();
        Handle r = behind.granted();
        assertThat(lock.holders()).containsExactly(r);
        r.unlock();
    }

    @Test
    void interruptedReaderLeavesTheLockAsIfItNeverCame() throws Exception {
        Handle holder = lock.lockWrite(0, 10);
        Contender interrupted = Contender.startBlocked("reader[2,3)", () -> lock.lockRead(2, 3));
        interrupted.interrupt();
        assertThat(interrupted.failure()).isInstanceOf(InterruptedException.class);
        assertThat(lock.holders()).containsExactly(holder);
        holder.unlock();

        Handle w = lock.tryLockWrite(0, 10);
        assertThat(w).as("nothing was left behind by the interrupted reader").isNotNull();
        w.unlock();
    }

    @Test
    void pendingInterruptFailsFastWithoutTouchingTheLock() {
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> lock.lockWrite(0, 10)).isInstanceOf(InterruptedException.class);
        assertThat(Thread.currentThread().isInterrupted()).as("interrupt status is cleared").isFalse();
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> lock.lockRead(0, 10)).isInstanceOf(InterruptedException.class);
        assertThat(lock.isIdle()).isTrue();
    }

    @Test
    void tryLockIgnoresAndKeepsThePendingInterrupt() {
        Thread.currentThread().interrupt();
        try {
            Handle h = lock.tryLockWrite(0, 10);
            assertThat(h).isNotNull();
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
            h.unlock();
        } finally {
            Thread.interrupted();
        }
    }

    /**
     * Many threads, random small ranges in a 64-slot space, each holder claiming its slots in a
     * checker: any overlap that the lock let through shows up as a claim failure, and a lost wake-up
     * as a timeout instead of a hang.
     */
    @Test
    void noLostWakeupAndNoConflictingHoldersUnderContention() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> runWorkers(4, 20_000, false));
        assertThat(lock.isIdle()).isTrue();
    }

    /** As above, while an extra thread keeps interrupting the workers, most often while they wait. */
    @Test
    void interruptedWaitersNeverLeakOrStrandOthers() {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> runWorkers(4, 5_000, true));
        assertThat(lock.isIdle()).isTrue();
    }

    private void runWorkers(int threads, int iterations, boolean interrupts) throws InterruptedException {
        SlotChecker checker = new SlotChecker(64);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            long seed = 0x5eed + t;
            Thread worker = new Thread(() -> {
                try {
                    awaitUninterruptibly(go);
                    work(new SplittableRandom(seed), iterations, checker);
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "range-worker-" + t);
            worker.setDaemon(true);
            workers.add(worker);
        }
        workers.forEach(Thread::start);
        AtomicBoolean done = new AtomicBoolean();
        Thread interrupter = new Thread(() -> {
            SplittableRandom rnd = new SplittableRandom(42);
            while (!done.get()) {
                workers.get(rnd.nextInt(workers.size())).interrupt();
                Thread.yield();
            }
        }, "range-interrupter");
        interrupter.setDaemon(true);
        go.countDown();
        if (interrupts) {
            interrupter.start();
        }
        for (Thread w : workers) {
            w.join();
        }
        done.set(true);
        interrupter.join();

        assertThat(failures).isEmpty();
        assertThat(checker.violations()).isZero();
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        for (;;) {
            try {
                latch.await();
                return;
            } catch (InterruptedException e) {
                // the interrupter is aiming at lock calls; keep waiting for the start signal
            }
        }
    }

    private void work(SplittableRandom rnd, int iterations, SlotChecker checker) {
        for (int i = 0; i < iterations; i++) {
            long start;
            long end;
            if (rnd.nextInt(256) == 0) {
                start = COARSE_START;
                end = COARSE_END;
            } else {
                start = rnd.nextInt(64);
                end = Math.min(64, start + 1 + rnd.nextInt(8));
            }
            boolean write = rnd.nextInt(3) == 0;
            Handle h;
            if (rnd.nextInt(8) == 0) {
                h = write ? lock.tryLockWrite(start, end) : lock.tryLockRead(start, end);
                if (h == null) {
                    continue;
                }
            } else {
                try {
                    h = write ? lock.lockWrite(start, end) : lock.lockRead(start, end);
                } catch (InterruptedException e) {
                    continue; // the interrupt test expects this; the lock must be as if we never came
                }
            }
            int from = (int) Math.min(start, 64);
            int to = (int) Math.min(end, 64);
            checker.enter(from, to, write);
            // Hold the range long enough for others to queue on it: on 2 cores a bare critical section
            // is over before anyone notices it.
            if (rnd.nextInt(4) == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
            checker.exit(from, to, write);
            h.unlock();
        }
        Thread.interrupted(); // an interrupt that landed outside a lock call is not ours to keep
    }

    /**
     * Per-slot ownership: 0 free, n > 0 held by n readers, -1 held by one writer. Claims never wait,
     * so a lock that lets conflicting holders in is caught as a violation rather than a deadlock.
     */
    static final class SlotChecker {
        private final AtomicIntegerArray owners;
        private final AtomicInteger violations = new AtomicInteger();

        SlotChecker(int slots) {
            owners = new AtomicIntegerArray(slots);
        }

        void enter(int from, int to, boolean write) {
            for (int s = from; s < to; s++) {
                if (write) {
                    if (!owners.compareAndSet(s, 0, -1)) {
                        violations.incrementAndGet();
                    }
                } else {
                    int v;
                    do {
                        v = owners.get(s);
                        if (v < 0) {
                            violations.incrementAndGet();
                            break;
                        }
                    } while (!owners.compareAndSet(s, v, v + 1));
                }
            }
        }

        void exit(int from, int to, boolean write) {
            for (int s = from; s < to; s++) {
                if (write) {
                    if (!owners.compareAndSet(s, -1, 0)) {
                        violations.incrementAndGet();
                    }
                } else if (owners.decrementAndGet(s) < 0) {
                    violations.incrementAndGet();
                }
            }
        }

        int violations() {
            return violations.get();
        }
    }
}
