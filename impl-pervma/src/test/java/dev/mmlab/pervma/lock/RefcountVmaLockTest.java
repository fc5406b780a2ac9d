package dev.mmlab.pervma.lock;

import static dev.mmlab.pervma.lock.RefcountVmaLock.VMA_LOCK_OFFSET;
import static dev.mmlab.pervma.lock.RefcountVmaLock.VMA_REF_LIMIT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.testing.TestThread;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The 6.15 form's own states (vm_refcnt values), in addition to {@link VmaLockContractTest}. */
class RefcountVmaLockTest {
    private final MmLockSeq mm = new MmLockSeq();

    private RefcountVmaLock attached() {
        RefcountVmaLock lock = new RefcountVmaLock();
        lock.startWrite(mm.read());
        lock.markAttached();
        mm.endWriteCycle();
        return lock;
    }

    @Test
    void refcountTracksAttachAndReaders() {
        RefcountVmaLock lock = new RefcountVmaLock();
        assertThat(lock.refcount()).as("detached").isZero();
        lock.startWrite(mm.read());
        assertThat(lock.refcount()).as("startWrite on a detached VMA only sets the sequence").isZero();
        lock.markAttached();
        assertThat(lock.refcount()).isEqualTo(1);
        mm.endWriteCycle();

        assertThat(lock.tryStartRead(mm)).isTrue();
        assertThat(lock.refcount()).isEqualTo(2);
        lock.endRead();
        assertThat(lock.refcount()).isEqualTo(1);
    }

    @Test
    void waitingWriterAddsTheOffsetAndShutsOutNewReaders() throws Exception {
        RefcountVmaLock lock = attached();
        assertThat(lock.tryStartRead(mm)).isTrue();

        long cycle = mm.read();
        TestThread writer = TestThread.start("writer", () -> lock.startWrite(cycle));
        writer.awaitBlocked();

        assertThat(lock.refcount()).isEqualTo(VMA_LOCK_OFFSET + 2);
        assertThat(lock.readers()).isEqualTo(1);
        assertThat(lock.refcountIncNotZeroLimited()).as("increment refused above VMA_REF_LIMIT").isFalse();
        assertThat(lock.tryStartRead(mm)).isFalse();

        lock.endRead();
        writer.finish();
        assertThat(lock.refcount()).as("offset removed, attach reference left").isEqualTo(1);
        assertThat(lock.isWriteLocked(cycle)).isTrue();
    }

    @Test
    void markDetachedWaitsForAReaderThatRacedIn() throws Exception {
        RefcountVmaLock lock = attached();
        lock.startWrite(mm.read());

        // A reader that took its reference before noticing the VMA is write-locked (vma_start_read between
        // __refcount_inc_not_zero_limited_acquire and the vm_lock_seq re-check).
        assertThat(lock.refcountIncNotZeroLimited()).isTrue();

        CountDownLatch detached = new CountDownLatch(1);
        TestThread detacher = TestThread.start("detacher", () -> {
            lock.markDetached();
            detached.countDown();
        });
        detacher.awaitBlocked();
        assertThat(detached.getCount()).as("markDetached returned with a reader inside").isEqualTo(1);
        assertThat(lock.refcount()).as("attach reference dropped, offset added").isEqualTo(VMA_LOCK_OFFSET + 1);
        assertThat(lock.readers()).isEqualTo(1);
        assertThat(lock.tryStartRead(mm)).isFalse();

        lock.refcountPut(); // the racing reader's re-check failed; it backs out and wakes the writer
        assertThat(detached.await(10, TimeUnit.SECONDS)).isTrue();
        detacher.finish();
        assertThat(lock.refcount()).isZero();
        assertThat(lock.isDetached()).isTrue();
        assertThat(lock.readers()).isZero();

        mm.endWriteCycle();
        assertThat(lock.tryStartRead(mm)).isFalse();
    }

    @Test
    void markDetachedDoesNotWaitWhenTheRacingReaderLeftFirst() {
        RefcountVmaLock lock = attached();
        lock.startWrite(mm.read());
        assertThat(lock.refcountIncNotZeroLimited()).isTrue();
        lock.refcountPut();
        lock.markDetached();
        assertThat(lock.refcount()).isZero();
    }

    @Test
    void readersStopAtVmaRefLimit() {
        RefcountVmaLock lock = new RefcountVmaLock(VMA_REF_LIMIT - 1);
        assertThat(lock.tryStartRead(mm)).isTrue();
        assertThat(lock.refcount()).isEqualTo(VMA_REF_LIMIT);
        assertThat(lock.tryStartRead(mm)).as("at the limit").isFalse();
        assertThat(lock.refcount()).isEqualTo(VMA_REF_LIMIT);
        lock.endRead();
        assertThat(lock.tryStartRead(mm)).isTrue();
    }

    @Test
    void unbalancedEndReadOnADetachedVmaLeavesTheCountAtZero() {
        RefcountVmaLock lock = new RefcountVmaLock();
        assertThatThrownBy(lock::endRead).isInstanceOf(IllegalStateException.class);
        assertThat(lock.refcount()).isZero();
        lock.markAttached();
        assertThat(lock.refcount()).isEqualTo(1);
    }

    @Test
    void secondConcurrentWriterIsAnError() throws Exception {
        RefcountVmaLock lock = attached();
        assertThat(lock.tryStartRead(mm)).isTrue();
        long cycle = mm.read();
        TestThread writer = TestThread.start("writer", () -> lock.startWrite(cycle));
        writer.awaitBlocked();

        assertThatThrownBy(() -> lock.startWrite(cycle))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("mmap write lock");

        lock.endRead();
        writer.finish();
        assertThat(lock.refcount()).isEqualTo(1);
        assertThat(lock.isWriteLocked(cycle)).isTrue();
    }
}
