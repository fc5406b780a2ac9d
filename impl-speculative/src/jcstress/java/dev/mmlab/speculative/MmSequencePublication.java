package dev.mmlab.speculative;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * Per-mm validation ({@code validation=mm}) in miniature: the writer makes the mm count odd (write lock
 * taken), publishes a new snapshot, detaches the old VMA, zaps its PTE if a table exists, and ends the count
 * (write lock released); the fault reads the mm count before its lockless lookup and commits under the PTL
 * only if the count is unchanged. The arbiter reads the PTE: 1 is a PTE committed through the retired VMA,
 * 2 through the new one.
 */
@JCStressTest
@Outcome(id = "0", expect = ACCEPTABLE, desc = "no PTE: the fault aborted (odd or changed count), or committed early and the writer zapped it")
@Outcome(id = "2", expect = ACCEPTABLE, desc = "the fault started after the writer ended, found the new VMA and committed through it")
@Outcome(id = "1", expect = FORBIDDEN, desc = "a PTE committed through the retired VMA survived the writer's zap: a stale fault passed validation")
@State
public class MmSequencePublication {
    private final SeqCount mmSeq = new SeqCount();
    private final PublicationRace race = new PublicationRace(null, null);

    @Actor
    public void writer() {
        mmSeq.writeBegin();
        race.replaceAndZap();
        mmSeq.writeEnd();
    }

    @Actor
    public void fault() {
        long start = mmSeq.readBegin();
        if ((start & 1) != 0) {
            return;
        }
        race.commit(race.lookup(), mmSeq, start, false);
    }

    @Arbiter
    public void arbiter(I_Result r) {
        r.r1 = race.pte();
    }
}
