package dev.mmlab.pervma.jcstress;

import dev.mmlab.pervma.lock.RwsemVmaLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressMeta;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * 6.4 rwsem form: a fault's {@code vma_start_read} races with a writer's {@code vma_start_write} followed by a
 * change of the VMA's two attribute words, inside one mmap write cycle that does not end. A reader that gets
 * in must see the VMA unchanged (the writer waited for it); one that comes later must be refused.
 */
@JCStressTest
@JCStressMeta(VmaHandoff.StartWriteOutcomes.class)
@State
public class RwsemStartWriteHandoff {
    private final VmaHandoff race = new VmaHandoff(new RwsemVmaLock());

    @Actor
    public void fault(III_Result r) {
        race.fault(r);
    }

    @Actor
    public void writer() {
        race.startWriteAndChange();
    }

    @Arbiter
    public void arbiter(III_Result r) {
        race.readersLeft(r);
    }
}
