package dev.mmlab.speculative;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.mmlab.api.Linux;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmFlags;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.pgtable.PageTables;
import dev.mmlab.api.pgtable.PteTable;
import java.util.List;
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
    private static final long ADDR = 0x100000000L;
    private static final long FLAGS = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE;

    private final SeqCount mmSeq = new SeqCount();
    private final SnapshotVmaTree tree = new SnapshotVmaTree();
    private final PageTables tables = new PageTables();
    private final Vma old = new Vma(ADDR, ADDR + Linux.PAGE_SIZE, FLAGS, ADDR >>> Linux.PAGE_SHIFT, null, null, null, null);
    private final Vma fresh = new Vma(ADDR, ADDR + Linux.PAGE_SIZE, FLAGS | VmFlags.VM_EXEC, ADDR >>> Linux.PAGE_SHIFT,
            null, null, null, null);

    public MmSequencePublication() {
        tree.replace(List.of(), List.of(old));
    }

    @Actor
    public void writer() {
        mmSeq.writeBegin();
        tree.replace(List.of(old), List.of(fresh));
        old.markDetached();
        PteTable table = tables.lookup(ADDR);
        if (table != null) {
            table.ptl().lock();
            try {
                if (!table.isDetached()) {
                    table.clear(ADDR);
                }
            } finally {
                table.ptl().unlock();
            }
        }
        mmSeq.writeEnd();
    }

    @Actor
    public void fault() {
        long start = mmSeq.readBegin();
        if ((start & 1) != 0) {
            return;
        }
        Vma vma = tree.find(ADDR);
        PteTable table = tables.allocate(ADDR);
        table.ptl().lock();
        try {
            if (!table.isDetached() && mmSeq.validate(start) && table.page(ADDR) == null) {
                table.install(ADDR, Page.ZERO, vma == old ? 1 : 2);
            }
        } finally {
            table.ptl().unlock();
        }
    }

    @Arbiter
    public void arbiter(I_Result r) {
        PteTable table = tables.lookup(ADDR);
        if (table == null) {
            r.r1 = 0;
            return;
        }
        table.ptl().lock();
        try {
            r.r1 = table.page(ADDR) == null ? 0 : table.bits(ADDR);
        } finally {
            table.ptl().unlock();
        }
    }
}
