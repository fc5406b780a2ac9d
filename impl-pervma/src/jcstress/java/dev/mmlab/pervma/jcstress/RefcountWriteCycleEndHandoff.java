package dev.mmlab.pervma.jcstress;

import dev.mmlab.pervma.lock.RefcountVmaLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressMeta;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * 6.15 refcount form: the whole handoff. The writer write-locks the VMA, changes its two attribute words with plain
 * stores and ends the mmap write cycle ({@code mm_lock_seq++}, a release). A reader that gets in before
 * sees the old VMA; one that gets in after must see the whole change (acquire on {@code mm_lock_seq},
 * commit b1f02b95758d); nothing in between.
 */
@JCStressTest
@JCStressMeta(VmaHandoff.WriteCycleEndOutcomes.class)
@State
public class RefcountWriteCycleEndHandoff {
    private final VmaHandoff race = new VmaHandoff(new RefcountVmaLock());

    @Actor
    public void fault(III_Result r) {
        race.fault(r);
    }

    @Actor
    public void writer() {
        race.startWriteAndChange();
        race.endWriteCycle();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        race.readersLeft(r);
    }
}
