package dev.mmlab.pervma.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.testing.TestThread;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract every {@link VmaLock} form must keep, run against each. Form-specific behaviour lives in
 * {@link RwsemVmaLockTest} and {@link RefcountVmaLockTest}, in addition to this suite.
 */
class VmaLockContractTest {
    private static final long STRESS_NANOS = TimeUnit.MILLISECONDS.toNanos(1000);

    static Stream<Named<Supplier<VmaLock>>> forms() {
        return Stream.of(
                Named.<Supplier<VmaLock>>of("rwsem (6.4)", RwsemVmaLock::new),
                Named.<Supplier<VmaLock>>of("refcount (6.15)", RefcountVmaLock::new));
    }

    /** A VMA as a writer publishes it: write-locked in a cycle, attached, cycle ended. */
    private static VmaLock attached(Supplier<VmaLock> form, MmLockSeq mm) {
        VmaLock lock = form.get();
        lock.startWrite(mm.read());
        lock.markAttached();
        mm.endWriteCycle();
        return lock;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void newLockIsDetachedAndRefusesReaders(Supplier<VmaLock> form) {
        VmaLock lock = form.get();
        MmLockSeq mm = new MmLockSeq();

        assertThat(lock.isDetached()).isTrue();
        assertThat(lock.isWriteLocked(mm.read())).isFalse();
        assertThat(lock.tryStartRead(mm)).isFalse();
        assertThat(lock.readers()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void readSucceedsOnAttachedUnmarkedVma(Supplier<VmaLock> form) {
        MmLockSeq mm = new MmLockSeq();
        VmaLock lock = attached(form, mm);

        assertThat(lock.isDetached()).isFalse();
        assertThat(lock.tryStartRead(mm)).isTrue();
        assertThat(lock.readers()).isEqualTo(1);
        assertThat(lock.tryStartRead(mm)).as("read locks are shared").isTrue();
        assertThat(lock.readers()).isEqualTo(2);
        lock.endRead();
        lock.endRead();
        assertThat(lock.readers()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void readFailsWhileWriteLockedInTheCycleAndSucceedsAfterItEnds(Supplier<VmaLock> form) {
        MmLockSeq mm = new MmLockSeq();
        VmaLock lock = attached(form, mm);

        long cycle = mm.read();
        lock.startWrite(cycle);
        assertThat(lock.isWriteLocked(cycle)).isTrue();
        assertThat(lock.tryStartRead(mm)).isFalse();
        assertThat(lock.readers()).isZero();

        mm.endWriteCycle();
        assertThat(lock.isWriteLocked(mm.read())).isFalse();
        assertThat(lock.tryStartRead(mm)).isTrue();
        lock.endRead();
        assertThat(lock.readers()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void startWriteIsIdempotentWithinACycleButNotAcrossCycles(Supplier<VmaLock> form) {
        MmLockSeq mm = new MmLockSeq();
        VmaLock lock = attached(form, mm);

        long cycle = mm.read();
        lock.startWrite(cycle);
        lock.startWrite(cycle);
        lock.assertWriteLocked(cycle);
        assertThat(lock.tryStartRead(mm)).isFalse();
        mm.endWriteCycle();

        long next = mm.read();
        assertThat(lock.isWriteLocked(next)).as("marks do not outlive their cycle").isFalse();
        assertThatThrownBy(() -> lock.assertWriteLocked(next))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("vma_start_write");
        lock.startWrite(next);
        assertThat(lock.isWriteLocked(next)).isTrue();
        mm.endWriteCycle();

        assertThat(lock.tryStartRead(mm)).isTrue();
        lock.endRead();
        assertThat(lock.readers()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void readFailsOnDetachedVma(Supplier<VmaLock> form) {
        MmLockSeq mm = new MmLockSeq();
        VmaLock lock = attached(form, mm);

        lock.startWrite(mm.read());
        lock.markDetached();
        assertThat(lock.isDetached()).isTrue();
        assertThat(lock.tryStartRead(mm)).isFalse();
        mm.endWriteCycle();

        assertThat(lock.tryStartRead(mm)).as("detached, and no longer write-locked").isFalse();
        assertThat(lock.readers()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void startWriteWaitsForInFlightReaderAndNewReadersFailMeanwhile(Supplier<VmaLock> form) throws Exception {
        MmLockSeq mm = new MmLockSeq();
        VmaLock lock = attached(form, mm);
        assertThat(lock.tryStartRead(mm)).isTrue();

        long cycle = mm.read();
        CountDownLatch written = new CountDownLatch(1);
        AtomicInteger readersWhenWritten = new AtomicInteger(-1);
        TestThread writer = TestThread.start("writer", () -> {
            lock.startWrite(cycle);
            readersWhenWritten.set(lock.readers());
            written.countDown();
        });

        writer.awaitBlocked();
        assertThat(written.getCount()).as("startWrite returned with a reader inside").isEqualTo(1);
        assertThat(lock.tryStartRead(mm)).as("a new reader while the writer waits").isFalse();
        assertThat(lock.readers()).isEqualTo(1);

        lock.endRead();
        assertThat(written.await(10, TimeUnit.SECONDS)).isTrue();
        writer.finish();
        assertThat(readersWhenWritten).hasValue(0);
        assertThat(lock.isWriteLocked(cycle)).isTrue();
        assertThat(lock.tryStartRead(mm)).isFalse();

        mm.endWriteCycle();
        assertThat(lock.tryStartRead(mm)).isTrue();
        lock.endRead();
        assertThat(lock.readers()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void startWriteIsUninterruptibleAndKeepsTheInterrupt(Supplier<VmaLock> form) throws Exception {
        MmLockSeq mm = new MmLockSeq();
        VmaLock lock = attached(form, mm);
        assertThat(lock.tryStartRead(mm)).isTrue();

        long cycle = mm.read();
        CountDownLatch written = new CountDownLatch(1);
        AtomicInteger readersWhenWritten = new AtomicInteger(-1);
        AtomicBoolean interruptKept = new AtomicBoolean();
        TestThread writer = TestThread.start("writer", () -> {
            lock.startWrite(cycle);
            readersWhenWritten.set(lock.readers());
            interruptKept.set(Thread.currentThread().isInterrupted());
            written.countDown();
        });

        writer.awaitBlocked();
        writer.interrupt();
        // A bounded negative check: give a wrongly interruptible startWrite the chance to return.
        assertThat(written.await(100, TimeUnit.MILLISECONDS)).as("startWrite returned on interrupt").isFalse();

        lock.endRead();
        writer.finish();
        assertThat(readersWhenWritten).as("startWrite returned before the reader left").hasValue(0);
        assertThat(interruptKept).as("interrupt status kept").isTrue();
        assertThat(lock.isWriteLocked(cycle)).isTrue();
        mm.endWriteCycle();
        assertThat(lock.readers()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void detachWhileAReaderHoldsTheVma(Supplier<VmaLock> form) throws Exception {
        // The reader stands for one that raced in; the kernel only meets it briefly, since the writer has
        // write-locked the VMA first. Either form: new readers fail at once, the holder's endRead completes,
        // and afterwards the VMA is detached with no readers. (Whether markDetached waits is form-specific.)
        MmLockSeq mm = new MmLockSeq();
        VmaLock lock = attached(form, mm);
        assertThat(lock.tryStartRead(mm)).isTrue();

        TestThread detacher = TestThread.start("detacher", lock::markDetached);
        if (!TestThread.awaitParkedOrEnded(detacher, Duration.ZERO)) {
            detacher.finish();
        }

        assertThat(lock.tryStartRead(mm)).as("a new reader during or after the detach").isFalse();
        lock.endRead();
        detacher.finish();

        assertThat(lock.isDetached()).isTrue();
        assertThat(lock.readers()).isZero();
        assertThat(lock.tryStartRead(mm)).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void endReadMayComeFromAnotherThread(Supplier<VmaLock> form) throws Exception {
        MmLockSeq mm = new MmLockSeq();
        VmaLock lock = attached(form, mm);
        assertThat(lock.tryStartRead(mm)).isTrue();

        TestThread.start("releaser", lock::endRead).finish();
        assertThat(lock.readers()).isZero();
        lock.startWrite(mm.read()); // would block forever on a leaked reader
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void misuseIsReportedNotSwallowed(Supplier<VmaLock> form) {
        MmLockSeq mm = new MmLockSeq();
        VmaLock fresh = form.get();
        assertThatThrownBy(fresh::endRead).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("vma_end_read");
        assertThatThrownBy(fresh::markDetached).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not attached");
        assertThat(fresh.isDetached()).isTrue();

        VmaLock lock = attached(form, mm);
        assertThatThrownBy(lock::markAttached).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already attached");
        assertThat(lock.tryStartRead(mm)).as("still usable").isTrue();
        lock.endRead();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void stressReadersNeverSucceedWhileWriteLocked(Supplier<VmaLock> form) {
        stress(form, false);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("forms")
    void stressWithDetachAndReattachInEachCycle(Supplier<VmaLock> form) {
        stress(form, true);
    }

    /**
     * Two readers loop tryStartRead/endRead while one writer (standing for the mmap write lock holder) loops
     * startWrite, a change to the "VMA", endWriteCycle. A reader that gets in while the writer is between
     * startWrite and endWriteCycle, or that sees a half-written VMA, is a violation.
     */
    private static void stress(Supplier<VmaLock> form, boolean detachEachCycle) {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            MmLockSeq mm = new MmLockSeq();
            VmaLock lock = attached(form, mm);
            AtomicBoolean underWrite = new AtomicBoolean();
            long[] vma = new long[2]; // plain fields, written only between startWrite and endWriteCycle
            AtomicLong violations = new AtomicLong();
            AtomicLong reads = new AtomicLong();
            AtomicLong cycles = new AtomicLong();
            CountDownLatch go = new CountDownLatch(1);
            long deadline = System.nanoTime() + STRESS_NANOS;

            TestThread.Body reader = () -> {
                long ok = 0;
                long bad = 0;
                go.await();
                while (System.nanoTime() - deadline < 0) {
                    if (!lock.tryStartRead(mm)) {
                        Thread.onSpinWait();
                        continue;
                    }
                    ok++;
                    if (underWrite.get()) {
                        bad++;
                    }
                    if (vma[0] != vma[1]) {
                        bad++;
                    }
                    Thread.onSpinWait();
                    if (underWrite.get()) {
                        bad++;
                    }
                    lock.endRead();
                }
                reads.addAndGet(ok);
                violations.addAndGet(bad);
            };
            TestThread.Body writer = () -> {
                long n = 0;
                go.await();
                while (System.nanoTime() - deadline < 0) {
                    lock.startWrite(mm.read());
                    underWrite.set(true);
                    vma[0] = n;
                    if (detachEachCycle) {
                        lock.markDetached();
                        lock.markAttached();
                    }
                    vma[1] = n;
                    underWrite.set(false);
                    mm.endWriteCycle();
                    n++;
                }
                cycles.set(n);
            };

            TestThread r1 = TestThread.start("reader-1", reader);
            TestThread r2 = TestThread.start("reader-2", reader);
            TestThread w = TestThread.start("writer", writer);
            go.countDown();
            r1.finish();
            r2.finish();
            w.finish();

            assertThat(violations).as("reads that overlapped a write cycle").hasValue(0);
            assertThat(lock.readers()).isZero();
            assertThat(lock.isDetached()).isFalse();
            assertThat(reads.get()).as("successful reads").isPositive();
            assertThat(cycles.get()).as("write cycles").isPositive();
        });
    }
}
