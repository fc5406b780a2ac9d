package dev.mmlab.rangelock.lock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.rangelock.lock.RangeLock.Handle;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * The shared contract, the documented lack of FIFO order, and the two validation races of the
 * lock-free list, opened deterministically through its test seam.
 */
class ListRangeLockTest extends RangeLockContractTest {

    @Override
    RangeLock newLock() {
        return new ListRangeLock();
    }

    /** Documents the fairness trade-off in the class comment: a waiting writer does not hold readers back. */
    @Test
    void readersOvertakeAWaitingWriter() throws Exception {
        Handle r1 = lock.lockRead(0, 10);
        Contender writer = Contender.startBlocked("writer[0,10)", () -> lock.lockWrite(0, 10));
        Handle r2 = lock.tryLockRead(0, 10);
        assertThat(r2).isNotNull();

        r1.unlock();
        writer.assertStillWaiting();
        r2.unlock();
        writer.granted().unlock();
    }

    /**
     * A reader links itself before a writer whose traversal had already passed that spot: the writer's
     * validation must see the reader and back off, or both would hold {@code [2,3)}.
     */
    @Test
    void writerBacksOffFromAReaderLinkedBehindItsTraversal() throws Exception {
        PauseBeforeLink pause = new PauseBeforeLink(Handle::isWrite);
        ListRangeLock list = new ListRangeLock(pause);
        Handle p = list.tryLockRead(1, 2); // the writer passes it and links after it; the reader links before it
        Contender writer = Contender.start("writer[2,3)", () -> list.lockWrite(2, 3));
        pause.awaitReached();
        Handle reader = list.tryLockRead(0, 3);
        assertThat(reader).as("the writer is not linked yet").isNotNull();

        pause.resume();
        writer.awaitParked();
        assertThat(list.holders()).containsExactlyInAnyOrder(p, reader);
        reader.unlock();
        Handle w = writer.granted();
        assertThat(list.holders()).containsExactlyInAnyOrder(p, w);
        w.unlock();
        p.unlock();
        assertThat(list.isIdle()).isTrue();
    }

    /**
     * A writer links itself after a reader's traversal read its successor but before the reader's
     * CAS: the reader's validation must find the writer ahead of it and wait.
     */
    @Test
    void readerWaitsForAWriterLinkedAheadOfItDuringItsTraversal() throws Exception {
        PauseBeforeLink pause = new PauseBeforeLink(h -> !h.isWrite() && h.start() == 0);
        ListRangeLock list = new ListRangeLock(pause);
        Handle p = list.tryLockRead(1, 2);
        Contender reader = Contender.start("reader[0,3)", () -> list.lockRead(0, 3));
        pause.awaitReached();
        Handle w = list.tryLockWrite(2, 3);
        assertThat(w).as("the reader is not linked yet").isNotNull();

        pause.resume();
        reader.awaitParked();
        assertThat(list.holders()).containsExactlyInAnyOrder(p, w);
        w.unlock();
        Handle r = reader.granted();
        assertThat(list.holders()).containsExactlyInAnyOrder(p, r);
        r.unlock();
        p.unlock();
        assertThat(list.isIdle()).isTrue();
    }

    /** Holds the first link attempt of a matching node until the test resumes it. */
    private static final class PauseBeforeLink implements Consumer<Handle> {
        private final Predicate<Handle> which;
        private final AtomicBoolean armed = new AtomicBoolean(true);
        private final CountDownLatch reached = new CountDownLatch(1);
        private final CountDownLatch resumed = new CountDownLatch(1);
        private final CountDownLatch left = new CountDownLatch(1);

        PauseBeforeLink(Predicate<Handle> which) {
            this.which = which;
        }

        @Override
        public void accept(Handle node) {
            if (which.test(node) && armed.compareAndSet(true, false)) {
                reached.countDown();
                boolean interrupted = false;
                for (;;) {
                    try {
                        if (!resumed.await(10, TimeUnit.SECONDS)) {
                            throw new AssertionError("test never resumed the paused link of " + node);
                        }
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
                left.countDown();
            }
        }

        void awaitReached() throws InterruptedException {
            assertThat(reached.await(10, TimeUnit.SECONDS)).as("link attempt reached").isTrue();
        }

        /**
         * Lets the paused thread link its node, and returns once it has left the hook: from then on it
         * parks only if the lock makes it wait, so {@link Contender#awaitParked} means what it says.
         */
        void resume() throws InterruptedException {
            resumed.countDown();
            assertThat(left.await(10, TimeUnit.SECONDS)).as("paused thread resumed").isTrue();
        }
    }
}
