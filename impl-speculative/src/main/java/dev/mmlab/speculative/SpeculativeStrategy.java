package dev.mmlab.speculative;

import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaLockState;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.sync.CoarseMmapLock;
import dev.mmlab.api.sync.RwsemMmLock;
import java.util.ArrayList;
import java.util.List;

/**
 * Speculative page faults: faults run with no mm lock and commit under the PTL only if a sequence count shows
 * that nothing they relied on changed; syscalls take the coarse mmap rwsem exactly as the baseline does (with
 * its switches), plus the sequence bumps. Option {@code validation}: {@code vma} (per-VMA counts, Laurent
 * Dufour's series, v11, 2018) or {@code mm} (one per-mm count odd while any writer holds the lock, Michel
 * Lespinasse, 2021). Never merged into Linux; per-VMA locks (6.4) replaced it.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The parts of one address space ({@code Instance}, final references only):
 *       the mmap rwsem ({@link CoarseMmapLock}) for syscalls, with {@link VmaSequences} or {@link MmSequence}
 *       as its write-side hooks; the {@link SpeculativeFaultHandler} for faults, falling back to the mmap lock
 *       path; one {@link SnapshotVmaTree} that both read. Per-VMA mode gives every new VMA a fresh, even
 *       {@link SeqCount}.</li>
 *   <li><b>Lock order.</b> as the baseline's: the mmap lock &rarr; a PTL. The sequence bumps run inside the
 *       mmap write lock and take nothing; a speculative fault holds no lock but the PTL it commits under.</li>
 * </ul>
 */
public final class SpeculativeStrategy implements LockingStrategy {
    public static final String NAME = "speculative";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "speculative page faults (lockless VMA lookup, sequence validation at commit; Dufour 2018 / Lespinasse 2021)"
                + " over the mmap rwsem";
    }

    @Override
    public List<StrategyOption> options() {
        List<StrategyOption> options = new ArrayList<>();
        options.add(StrategyOption.choice("validation", "vma", "what a fault validates at commit: the VMA's sequence "
                + "count (Dufour) or one per-mm sequence odd while a writer holds the lock (Lespinasse)", "vma", "mm"));
        options.addAll(CoarseMmapLock.options());
        options.add(StrategyOption.bool("vmaRefcount", false, "with validation=vma, every speculative fault also takes "
                + "and drops a reference on a counter in its VMA: the single shared atomic per VMA that Lespinasse "
                + "measured at -62% on 48 threads; for measuring that cost"));
        return options;
    }

    /** Thread-safe; does not block. */
    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        VmaTree tree = new SnapshotVmaTree();
        boolean perMm = config.get("validation").equals("mm");
        MmSequence mmSequence = perMm ? new MmSequence() : null;
        VmaSequences vmaSequences = perMm ? null : new VmaSequences(tree);
        CoarseMmapLock mmapLock = CoarseMmapLock.create(SpeculativeFaultHandler.PREFIX, config, context, tree,
                perMm ? mmSequence : vmaSequences);
        if (perMm && config.bool("vmaRefcount")) {
            throw new IllegalArgumentException(NAME + ": vmaRefcount needs validation=vma (per-mm validation keeps "
                    + "nothing per VMA)");
        }
        SpeculativeFaultHandler faults = new SpeculativeFaultHandler(tree, perMm ? mmSequence.seq() : null,
                mmapLock.faults(), context.counters(), config.bool("vmaRefcount"));
        return new Instance(mmapLock.lock(), tree, faults, mmSequence, vmaSequences);
    }

    /** The parts for one address space; package-private so tests can reach the probe. */
    static final class Instance implements StrategyInstance {
        private final RwsemMmLock lock;
        private final VmaTree tree;
        private final SpeculativeFaultHandler faults;
        private final MmSequence mmSequence;
        private final VmaSequences vmaSequences;

        Instance(RwsemMmLock lock, VmaTree tree, SpeculativeFaultHandler faults, MmSequence mmSequence,
                VmaSequences vmaSequences) {
            this.lock = lock;
            this.tree = tree;
            this.faults = faults;
            this.mmSequence = mmSequence;
            this.vmaSequences = vmaSequences;
        }

        @Override
        public MmLock mmLock() {
            return lock;
        }

        @Override
        public FaultHandler faultHandler() {
            return faults;
        }

        @Override
        public VmaTree vmaTree() {
            return tree;
        }

        /** Per-VMA mode: a fresh, even sequence count; per-mm mode: nothing per VMA. */
        @Override
        public VmaLockState newVmaState() {
            return vmaSequences != null ? new SeqCount() : null;
        }

        @Override
        public List<String> checkQuiescent(List<Vma> vmas) {
            return vmaSequences != null ? vmaSequences.checkQuiescent(vmas) : mmSequence.checkQuiescent();
        }

        SpeculativeFaultHandler speculativeFaults() {
            return faults;
        }

        /** The per-mm count (per-mm mode) or null. */
        SeqCount mmSeq() {
            return mmSequence == null ? null : mmSequence.seq();
        }
    }
}
