package dev.mmlab.api.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.LockIntent;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.stats.LockWait;
import dev.mmlab.api.stats.LockWaitRecorder;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Linux rwsem queueing rules. Every wait is bounded by assertTimeoutPreemptively. */
class RwSemaphoreTest {
    final LockWaitRecorder recorder = new LockWaitRecorder();
    final RwSemaphore sem = new RwSemaphore("test", recorder);

    static LockIntent read(long page) {
        return LockIntent.coarse(OpKind.FAULT, LockIntent.Mode.READ, page << 12, (page + 1) << 12);
    }

    static LockIntent write(long page) {
        return LockIntent.coarse(OpKind.MUNMAP, LockIntent.Mode.WRITE, page << 12, (page + 1) << 12);
    }

    /** Starts a thread running {@code body}; returns it. */
    static Thread start(String name, ThrowingRunnable body, AtomicReference<Throwable> failure) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.compareAndSet(null, e);
            }
        }, name);
        t.start();
        return t;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Waits until {@code n} waiters are queued. */
    void awaitQueued(int n) {
        while (sem.holdersAndWaiters().size() - sem.readerCount() - (sem.isWriteLocked() ? 1 : 0) < n) {
            Thread.onSpinWait();
        }
    }

    @Test
    void queuedWriterBlocksNewReadersAndReadersBehindItWakeAsABatch() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            LockIntent r0 = read(0);
            sem.acquireRead(r0);
            LockIntent w = write(1);
            CountDownLatch writerIn = new CountDownLatch(1);
            CountDownLatch writerGo = new CountDownLatch(1);
            Thread writer = start("writer", () -> {
                sem.acquireWrite(w);
                writerIn.countDown();
                writerGo.await();
                sem.releaseWrite(w);
            }, failure);
            awaitQueued(1);
            assertThat(sem.tryAcquireRead(read(9))).as("trylock fails behind a queued writer").isFalse();
            CountDownLatch readersIn = new CountDownLatch(2);
            CountDownLatch readersGo = new CountDownLatch(1);
            Thread[] readers = new Thread[2];
            for (int i = 0; i < 2; i++) {
                LockIntent ri = read(2 + i);
                readers[i] = start("reader" + i, () -> {
                    sem.acquireRead(ri);
                    readersIn.countDown();
                    readersGo.await();
                    sem.releaseRead(ri);
                }, failure);
            }
            awaitQueued(3);
            assertThat(readersIn.getCount()).as("new readers queue behind the writer").isEqualTo(2);
            sem.releaseRead(r0);
            writerIn.await();
            assertThat(sem.isWriteLocked()).isTrue();
            assertThat(readersIn.getCount()).isEqualTo(2);
            writerGo.countDown();
            readersIn.await();
            assertThat(sem.readerCount()).as("both readers in together").isEqualTo(2);
            readersGo.countDown();
            writer.join();
            for (Thread t : readers) {
                t.join();
            }
            assertThat(failure.get()).isNull();
            assertThat(sem.isIdle()).isTrue();
            List<LockWait> waits = recorder.recent();
            assertThat(waits).hasSize(3);
            LockWait writerWait = waits.stream().filter(x -> x.waiter() == w).findFirst().orElseThrow();
            assertThat(writerWait.blockers()).containsExactly(r0);
            assertThat(writerWait.falseConflict()).isTrue();
            assertThat(waits.stream().filter(x -> x.waiter() != w))
                    .allSatisfy(x -> assertThat(x.blockers()).contains(r0, w));
        });
    }

    @Test
    void readersAreWokenPastAQueuedWriterAsLinuxDoes() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            LockIntent w0 = write(0);
            sem.acquireWrite(w0);
            CountDownLatch r1In = new CountDownLatch(1);
            LockIntent r1 = read(1);
            Thread reader1 = start("r1", () -> {
                sem.acquireRead(r1);
                r1In.countDown();
            }, failure);
            awaitQueued(1);
            LockIntent w2 = write(2);
            AtomicBoolean w2In = new AtomicBoolean();
            Thread writer2 = start("w2", () -> {
                sem.acquireWrite(w2);
                w2In.set(true);
                sem.releaseWrite(w2);
            }, failure);
            awaitQueued(2);
            CountDownLatch r3In = new CountDownLatch(1);
            LockIntent r3 = read(3);
            Thread reader3 = start("r3", () -> {
                sem.acquireRead(r3);
                r3In.countDown();
            }, failure);
            awaitQueued(3);
            sem.releaseWrite(w0);
            r1In.await();
            r3In.await();
            assertThat(w2In).isFalse();
            sem.releaseRead(r1);
            sem.releaseRead(r3);
            writer2.join();
            reader1.join();
            reader3.join();
            assertThat(w2In).isTrue();
            assertThat(failure.get()).isNull();
            assertThat(sem.isIdle()).isTrue();
        });
    }

    @Test
    void downgradeLetsQueuedReadersInButNotWriters() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            LockIntent w = write(0);
            sem.acquireWrite(w);
            CountDownLatch rIn = new CountDownLatch(1);
            LockIntent r = read(1);
            Thread reader = start("r", () -> {
                sem.acquireRead(r);
                rIn.countDown();
                sem.releaseRead(r);
            }, failure);
            awaitQueued(1);
            sem.downgrade(w);
            rIn.await();
            assertThat(sem.isWriteLocked()).isFalse();
            reader.join();
            assertThat(sem.tryAcquireWrite(write(2))).isFalse();
            sem.releaseRead(w);
            assertThat(sem.isIdle()).isTrue();
            assertThat(failure.get()).isNull();
        });
    }

    @Test
    void interruptedWaiterHoldsNothingAndWaitersBehindItProceed() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            LockIntent r0 = read(0);
            sem.acquireRead(r0);
            AtomicReference<Throwable> writerOutcome = new AtomicReference<>();
            LockIntent w = write(1);
            Thread writer = new Thread(() -> {
                try {
                    sem.acquireWrite(w);
                    writerOutcome.set(new AssertionError("writer got the lock"));
                } catch (InterruptedException e) {
                    writerOutcome.set(e);
                }
            });
            writer.start();
            awaitQueued(1);
            CountDownLatch rIn = new CountDownLatch(1);
            LockIntent r = read(2);
            Thread reader = start("r", () -> {
                sem.acquireRead(r);
                rIn.countDown();
                sem.releaseRead(r);
            }, failure);
            awaitQueued(2);
            writer.interrupt();
            writer.join();
            assertThat(writerOutcome.get()).isInstanceOf(InterruptedException.class);
            rIn.await();
            reader.join();
            sem.releaseRead(r0);
            assertThat(sem.isIdle()).isTrue();
            assertThat(sem.holdersAndWaiters()).isEmpty();
            assertThat(failure.get()).isNull();
        });
    }

    @Test
    void holdersAndWaitersAreListedInOrder() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            LockIntent w = write(0);
            sem.acquireWrite(w);
            LockIntent r = read(1);
            Thread t = start("r", () -> {
                sem.acquireRead(r);
                sem.releaseRead(r);
            }, failure);
            awaitQueued(1);
            assertThat(sem.holdersAndWaiters()).containsExactly(w, r);
            assertThat(sem.describe()).contains("writer").contains("queued: R");
            sem.releaseWrite(w);
            t.join();
            assertThat(failure.get()).isNull();
            assertThat(recorder.recent()).singleElement().satisfies(x -> {
                assertThat(x.blockers()).containsExactly(w);
                assertThat(x.lockName()).isEqualTo("test");
            });
        });
    }
}
