package dev.mmlab.rangelock.lock;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.rangelock.lock.RangeLock.Handle;
import org.junit.jupiter.api.Test;

/** The shared contract plus the FIFO guarantees that only the tree lock makes. */
class TreeRangeLockTest extends RangeLockContractTest {

    @Override
    RangeLock newLock() {
        return new TreeRangeLock();
    }

    @Test
    void overlappingWaitersAreGrantedInArrivalOrder() throws Exception {
        Handle w1 = lock.lockWrite(0, 10);
        Contender reader = Contender.startBlocked("reader[0,10)", () -> lock.lockRead(0, 10));
        Contender w2 = Contender.startBlocked("writer[5,6)", () -> lock.lockWrite(5, 6));

        w1.unlock();
        Handle r = reader.granted();
        w2.assertStillWaiting();
        assertThat(lock.holders()).containsExactly(r);

        r.unlock();
        w2.granted().unlock();
    }

    @Test
    void readerArrivingAfterAQueuedWriterWaitsBehindIt() throws Exception {
        Handle r1 = lock.lockRead(0, 10);
        Contender writer = Contender.startBlocked("writer[0,10)", () -> lock.lockWrite(0, 10));
        assertThat(lock.tryLockRead(5, 6)).as("a try-lock does not jump the queue").isNull();
        Contender r2 = Contender.startBlocked("reader[5,6)", () -> lock.lockRead(5, 6));

        r1.unlock();
        Handle w = writer.granted();
        r2.assertStillWaiting();
        w.unlock();
        r2.granted().unlock();
    }

    @Test
    void queuedWaitersDoNotDelayDisjointRanges() throws Exception {
        Handle held = lock.lockWrite(0, 10);
        Contender waiter = Contender.startBlocked("writer[0,10)", () -> lock.lockWrite(0, 10));
        Handle disjoint = lock.tryLockWrite(10, 20);
        assertThat(disjoint).isNotNull();
        Handle reader = lock.tryLockRead(20, 30);
        assertThat(reader).isNotNull();
        disjoint.unlock();
        reader.unlock();
        held.unlock();
        waiter.granted().unlock();
    }

    @Test
    void interruptedWriterReleasesTheReaderQueuedBehindIt() throws Exception {
        Handle r1 = lock.lockRead(0, 10);
        Contender writer = Contender.startBlocked("writer[0,10)", () -> lock.lockWrite(0, 10));
        Contender r2 = Contender.startBlocked("reader[5,15)", () -> lock.lockRead(5, 15));

        writer.interrupt();
        assertThat(writer.failure()).isInstanceOf(InterruptedException.class);
        Handle granted = r2.granted();
        assertThat(lock.holders()).containsExactlyInAnyOrder(r1, granted);
        r1.unlock();
        granted.unlock();
    }

    @Test
    void interruptedWaiterInTheMiddleOfAQueueOnlyDropsItsOwnCount() throws Exception {
        Handle holder = lock.lockWrite(0, 10);
        Contender first = Contender.startBlocked("first writer", () -> lock.lockWrite(0, 10));
        Contender second = Contender.startBlocked("second writer", () -> lock.lockWrite(0, 10));

        first.interrupt();
        assertThat(first.failure()).isInstanceOf(InterruptedException.class);
        second.assertStillWaiting();
        holder.unlock();
        second.granted().unlock();
    }
}
