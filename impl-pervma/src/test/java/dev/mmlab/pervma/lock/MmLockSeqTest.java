package dev.mmlab.pervma.lock;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MmLockSeqTest {
    @Test
    void startsAtZeroAndEachCycleEndAddsOne() {
        MmLockSeq mm = new MmLockSeq();
        assertThat(mm.read()).isZero();
        mm.endWriteCycle();
        mm.endWriteCycle();
        assertThat(mm.read()).isEqualTo(2);
        assertThat(mm).hasToString("mm_lock_seq=2");
    }

    @Test
    void neverWriteLockedMarkIsNoCurrentValue() {
        assertThat(MmLockSeq.NO_SEQ).isNegative();
        assertThat(new RwsemVmaLock().isWriteLocked(new MmLockSeq().read())).isFalse();
        assertThat(new RefcountVmaLock().isWriteLocked(new MmLockSeq().read())).isFalse();
    }
}
