package dev.mmlab.pervma.lock;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The 6.4 form's own behaviour, in addition to {@link VmaLockContractTest}. */
class RwsemVmaLockTest {
    private final MmLockSeq mm = new MmLockSeq();

    private RwsemVmaLock attached() {
        RwsemVmaLock lock = new RwsemVmaLock();
        lock.startWrite(mm.read());
        lock.markAttached();
        mm.endWriteCycle();
        return lock;
    }

    @Test
    void markDetachedOnlySetsTheFlagAndDoesNotWaitForReaders() {
        RwsemVmaLock lock = attached();
        assertThat(lock.tryStartRead(mm)).isTrue();

        lock.markDetached(); // same thread as the reader: would deadlock if it waited
        assertThat(lock.isDetached()).isTrue();
        assertThat(lock.readers()).isEqualTo(1);
        assertThat(lock.tryStartRead(mm)).as("the detached check after the sequence re-check").isFalse();

        lock.endRead();
        assertThat(lock.readers()).isZero();
    }

    @Test
    void detachedCheckHappensUnderTheLockAfterTheSequenceCheck() {
        // Detached but not write-locked in the current cycle: only the flag stops the reader, and it must not
        // leak the read lock it took before looking at the flag.
        RwsemVmaLock lock = attached();
        lock.startWrite(mm.read());
        lock.markDetached();
        mm.endWriteCycle();

        assertThat(lock.isWriteLocked(mm.read())).isFalse();
        assertThat(lock.tryStartRead(mm)).isFalse();
        assertThat(lock.readers()).isZero();
    }
}
