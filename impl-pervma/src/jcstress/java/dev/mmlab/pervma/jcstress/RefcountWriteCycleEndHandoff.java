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
 * 6.15 refcount form: the whole handoff. The writer write-locks the VMA, changes its two attribute words with plain
 * stores and ends the mmap write cycle ({@code mm_lock_seq++}, a release). A reader that gets in before
 * sees the old VMA; one that gets in after must see the whole change (acquire on {@code mm_lock_seq},
 * commit b1f02b95758d); nothing in between.
 */
@JCStressTest
@Outcome(id = "-1, -1, 0", expect = ACCEPTABLE, desc = "reader refused: the VMA was write-locked in the cycle")
@Outcome(id = "0, 0, 0", expect = ACCEPTABLE, desc = "reader got in before the writer, which waited for it")
@Outcome(id = "1, 1, 0", expect = ACCEPTABLE, desc = "reader got in after the cycle ended and saw the whole change")
@Outcome(id = {"0, 1, 0", "1, 0, 0"}, expect = FORBIDDEN, desc = "reader saw a half-applied change")
@Outcome(expect = FORBIDDEN, desc = "anything else, including a read lock left behind (third value)")
@State
public class RefcountWriteCycleEndHandoff {
    private final MmLockSeq mm = new MmLockSeq();
    private final VmaLock lock = new RefcountVmaLock();
    private int a;
    private int b;

    public RefcountWriteCycleEndHandoff() {
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
        mm.endWriteCycle();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        r.r3 = lock.readers();
    }
}
