package dev.mmlab.speculative;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.mmlab.api.Vma;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/**
 * Per-VMA validation ({@code validation=vma}) in miniature, with the real tree, page tables and counts: a
 * writer replaces the VMA the way the engine does (mark old and new odd, publish the snapshot, detach the old,
 * zap its PTE under the PTL if a table exists, end the new); a speculative fault looks the VMA up with no
 * lock, reads its count, allocates the PTE table (a CAS: the Dekker pair with the writer's table lookup) and
 * commits under the PTL only if the count is unchanged and the VMA attached. The arbiter reads the PTE: 1 is
 * a PTE committed through the retired VMA, 2 through the new one.
 */
@JCStressTest
@Outcome(id = "0", expect = ACCEPTABLE, desc = "no PTE: the fault aborted (odd or changed count), or committed early and the writer zapped it")
@Outcome(id = "2", expect = ACCEPTABLE, desc = "the fault found the new VMA after the writer ended it, and committed through it")
@Outcome(id = "1", expect = FORBIDDEN, desc = "a PTE committed through the retired VMA survived the writer's zap: a stale fault passed validation")
@State
public class VmaSequencePublication {
    private final PublicationRace race = new PublicationRace(new SeqCount(), new SeqCount());

    @Actor
    public void writer() {
        SeqCount oldSeq = VmaSequences.seqOf(race.old());
        SeqCount freshSeq = VmaSequences.seqOf(race.fresh());
        oldSeq.writeBegin();
        freshSeq.writeBegin();
        race.replaceAndZap();
        freshSeq.writeEnd();
    }

    @Actor
    public void fault() {
        Vma vma = race.lookup();
        SeqCount seq = VmaSequences.seqOf(vma);
        long start = seq.readBegin();
        if ((start & 1) != 0) {
            return;
        }
        race.commit(vma, seq, start, true);
    }

    @Arbiter
    public void arbiter(I_Result r) {
        r.r1 = race.pte();
    }
}
