package dev.mmlab.pervma.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.mmlab.pervma.lock.MmLockSeq;
import dev.mmlab.pervma.lock.RefcountVmaLock;
import dev.mmlab.pervma.lock.VmaLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * 6.15 refcount form: a fault's {@code vma_start_read} races with a writer's {@code vma_start_write} followed by a
 * change of the VMA's two attribute words, inside one mmap write cycle that does not end. A reader that gets
 * in must see the VMA unchanged (the writer waited for it); one that comes later must be refused.
 */
@JCStressTest
@Outcome(id = "-1, -1, 0", expect = ACCEPTABLE, desc = "reader refused: the VMA was write-locked or a writer waited")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "reader got in first and saw the old VMA; the writer waited for it")
@Outcome(id = {"0, 1, 0", "1, 0, 0"}, expect = FORBIDDEN, desc = "reader saw a half-applied change")
@Outcome(id = "1, 1, 0", expect = FORBIDDEN, desc = "reader got in while the VMA was write-locked in the current cycle")
@Outcome(expect = FORBIDDEN, desc = "anything else, including a read lock left behind (third value)")
@State
public class RefcountStartWriteHandoff {
    private final MmLockSeq mm = new MmLockSeq();
    private final VmaLock lock = new RefcountVmaLock();
    private int a;
    private int b;

    public RefcountStartWriteHandoff() {
        // Published as the engine does it: write-locked, attached, cycle ended.
        lock.startWrite(mm.read());
        lock.markAttached();
        mm.endWriteCycle();
    }

    @Actor
    public void fault(III_Result r) {
        if (lock.tryStartRead(mm)) {
            r.r1 = a;
            r.r2 = b;
            lock.endRead();
        } else {
            r.r1 = -1;
            r.r2 = -1;
        }
    }

    @Actor
    public void writer() {
        lock.startWrite(mm.read());
        a = 1;
        b = 1;
    }

    @Arbiter
    public void arbiter(III_Result r) {
        r.r3 = lock.readers();
    }
}
