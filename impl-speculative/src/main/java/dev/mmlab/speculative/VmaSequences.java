package dev.mmlab.speculative;

import dev.mmlab.api.LockIntent;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.sync.RwsemMmLock;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-VMA validation ({@code validation=vma}, Dufour's speculative page faults): every VMA carries a
 * {@link SeqCount} as its lock state, and the holder of the mmap write lock makes it odd before the VMA
 * changes.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Each VMA's {@link SeqCount} guards that VMA for speculative faults. Only
 *       the holder of the mmap write lock calls these hooks, so {@link #marked} needs no lock of its own: the
 *       rwsem orders one holder's accesses before the next holder's.</li>
 *   <li><b>Lock order.</b> none of its own: every hook runs under the mmap write lock and never blocks
 *       (making a count odd or even is one atomic step).</li>
 *   <li><b>Retired VMAs.</b> VMAs are immutable: a change retires the old objects ({@link Vma#markDetached})
 *       and publishes new ones. So {@code startWrite(vma)} makes the VMA's count odd. If the cycle detaches
 *       it, it stays odd forever (a late reader that loaded it from an old snapshot sees odd and aborts); if it
 *       is still attached at unlock (a VMA marked only to fence its page tables), the count is ended, two
 *       higher than before.</li>
 *   <li><b>What a reader may see mid-update.</b> {@code prepareNew(vma)} makes a new VMA's count odd before it
 *       is published, and unlock ends it: a reader that finds the new VMA while its page tables are still
 *       being filled (mremap moves PTEs after publishing the target, Dufour's "protect mremap() against SPF
 *       handler") aborts instead of installing a page that the move would overwrite.</li>
 *   <li><b>mremap.</b> The engine's mremap moves the source's PTEs before it detaches the source VMA, so on an
 *       mremap write lock the VMAs in the operation's footprint are marked up front (Dufour did
 *       {@code vm_write_begin} on both VMAs in {@code move_vma}); otherwise a fault on the source could install
 *       a page behind the move and the write to it would be lost.</li>
 *   <li><b>Follows.</b> Laurent Dufour's speculative page faults (v11): {@code vm_sequence} per VMA.</li>
 * </ul>
 */
final class VmaSequences implements RwsemMmLock.Hooks {
    private final VmaTree tree;
    /** VMAs whose count this write cycle made odd. Guarded by the mmap write lock. */
    private final List<Vma> marked = new ArrayList<>();

    VmaSequences(VmaTree tree) {
        this.tree = tree;
    }

    /** The count of {@code vma}, or null when it was created without this strategy's state. */
    static SeqCount seqOf(Vma vma) {
        Object state = vma.lockState();
        return state instanceof SeqCount ? (SeqCount) state : null;
    }

    /** Caller holds the mmap write lock, just taken. */
    @Override
    public void writeLocked(LockIntent intent) {
        if (intent.op() == OpKind.MREMAP) {
            for (Vma v : tree.overlapping(intent.footprintStart(), intent.footprintEnd())) {
                mark(v);
            }
        }
    }

    /** Caller holds the mmap write lock; {@code vma} is about to change or be detached. Never blocks. */
    @Override
    public void startWrite(Vma vma) {
        mark(vma);
    }

    /** Caller holds the mmap write lock; {@code vma} is about to be published. Never blocks. */
    @Override
    public void prepareNew(Vma vma) {
        mark(vma);
    }

    private void mark(Vma vma) {
        SeqCount seq = seqOf(vma);
        if (seq == null) {
            throw new IllegalStateException("VMA without a sequence count under the speculative strategy: " + vma);
        }
        if (!seq.isOdd()) {
            seq.writeBegin();
            marked.add(vma);
        }
    }

    /** Caller holds the mmap write lock and is about to release or downgrade it. Never blocks. */
    @Override
    public void writeUnlocking() {
        for (Vma v : marked) {
            if (!v.isDetached()) {
                seqOf(v).writeEnd();
            }
        }
        marked.clear();
    }

    /** Problems at a quiescent point: a VMA in the tree left odd, or without a count. */
    List<String> checkQuiescent(List<Vma> vmas) {
        List<String> problems = new ArrayList<>();
        for (Vma v : vmas) {
            SeqCount seq = seqOf(v);
            if (seq == null) {
                problems.add("speculative: VMA " + v + " has no sequence count");
            } else if (seq.isOdd()) {
                problems.add("speculative: VMA " + v + " still write-marked (" + seq + ")");
            }
        }
        return problems;
    }
}
