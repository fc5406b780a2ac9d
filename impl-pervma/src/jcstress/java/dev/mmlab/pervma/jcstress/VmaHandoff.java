package dev.mmlab.pervma.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.mmlab.pervma.lock.MmLockSeq;
import dev.mmlab.pervma.lock.VmaLock;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * The race of every VMA lock handoff test here, under either lock form: a VMA published as the engine
 * publishes it (write-locked, attached, mmap write cycle ended), a fault's {@code vma_start_read} that reads
 * the VMA's two attribute words, and a writer's {@code vma_start_write} that changes them with plain stores.
 * The tests only name the lock form and which steps the writer takes: jcstress takes {@code @Actor} and
 * {@code @Arbiter} methods from the annotated class alone, not from a superclass, so each test declares them
 * and calls in here; their outcomes are {@link StartWriteOutcomes} or {@link WriteCycleEndOutcomes}.
 */
final class VmaHandoff {
    private final MmLockSeq mm = new MmLockSeq();
    private final VmaLock lock;
    private int a;
    private int b;

    VmaHandoff(VmaLock lock) {
        this.lock = lock;
        // Published as the engine does it: write-locked, attached, cycle ended.
        lock.startWrite(mm.read());
        lock.markAttached();
        mm.endWriteCycle();
    }

    /** The fault: both words under the VMA read lock (r1, r2), or -1, -1 when the read lock is refused. */
    void fault(III_Result r) {
        if (lock.tryStartRead(mm)) {
            r.r1 = a;
            r.r2 = b;
            lock.endRead();
        } else {
            r.r1 = -1;
            r.r2 = -1;
        }
    }

    /** The writer's change: write-lock the VMA in the current cycle, then store both words. */
    void startWriteAndChange() {
        lock.startWrite(mm.read());
        a = 1;
        b = 1;
    }

    /** Ends the mmap write cycle ({@code mm_lock_seq++}, a release): unlocks every VMA write-locked in it. */
    void endWriteCycle() {
        mm.endWriteCycle();
    }

    /** The arbiter: read locks left behind (r3), which must be none. */
    void readersLeft(III_Result r) {
        r.r3 = lock.readers();
    }

    /** Outcomes when the writer write-locks and changes the VMA inside a cycle that does not end. */
    @Outcome(id = "-1, -1, 0", expect = ACCEPTABLE, desc = "reader refused: the VMA was write-locked or a writer waited")
    @Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "reader got in first and saw the old VMA; the writer waited for it")
    @Outcome(id = {"0, 1, 0", "1, 0, 0"}, expect = FORBIDDEN, desc = "reader saw a half-applied change")
    @Outcome(id = "1, 1, 0", expect = FORBIDDEN, desc = "reader got in while the VMA was write-locked in the current cycle")
    @Outcome(expect = FORBIDDEN, desc = "anything else, including a read lock left behind (third value)")
    static final class StartWriteOutcomes {
        private StartWriteOutcomes() {}
    }

    /** Outcomes when the writer also ends the cycle after its change. */
    @Outcome(id = "-1, -1, 0", expect = ACCEPTABLE, desc = "reader refused: the VMA was write-locked in the cycle")
    @Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "reader got in before the writer, which waited for it")
    @Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "reader got in after the cycle ended and saw the whole change")
    @Outcome(id = {"0, 1, 0", "1, 0, 0"}, expect = FORBIDDEN, desc = "reader saw a half-applied change")
    @Outcome(expect = FORBIDDEN, desc = "anything else, including a read lock left behind (third value)")
    static final class WriteCycleEndOutcomes {
        private WriteCycleEndOutcomes() {}
    }
}
