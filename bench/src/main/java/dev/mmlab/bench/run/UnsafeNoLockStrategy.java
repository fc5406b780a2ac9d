package dev.mmlab.bench.run;

import dev.mmlab.api.Access;
import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.FaultAttempt;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FaultResult;
import dev.mmlab.api.HoldingFaultAttempt;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mm.SnapshotVmaTree;

/**
 * The model's own upper bound: no mm locking at all. Its guard covers everything and isolates nothing; its
 * fault handler looks the VMA up without a lock and commits without validating. Only the VMA tree's writer
 * monitor and the page-table locks remain, so it is correct only when no two threads ever touch the same
 * VMA, merge neighbour or page-table page (a disjoint scenario). Never registered with ServiceLoader, never in
 * {@code all}: the runner offers it by name ({@code --strategy unsafe-nolock}) and refuses it for scenarios
 * that are not disjoint.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Nothing of the strategy's: no guard isolates anything and no fault
 *       validates. What remains is the engine's own: the VMA tree's writer monitor (a
 *       {@link SnapshotVmaTree}), the PTLs, the page cache's and the allocator's atomics. Correct only when no
 *       two threads touch the same VMA, merge neighbour or page-table page.</li>
 *   <li><b>Lock order.</b> none: takes no lock; the engine's PTL and tree monitor are taken in the engine's
 *       order.</li>
 *   <li><b>What a reader may see mid-update.</b> Anything: a fault may run on a VMA that a concurrent syscall
 *       is replacing. That is why the runner refuses it for scenarios that are not disjoint.</li>
 * </ul>
 */
public final class UnsafeNoLockStrategy implements LockingStrategy {
    public static final String NAME = "unsafe-nolock";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "reference only: no locking at all, valid only for disjoint scenarios; the model's upper bound";
    }

    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        VmaTree tree = new SnapshotVmaTree();
        MmLock lock = new MmLock() {
            @Override
            public MmLockGuard lock(LockIntent intent) {
                return new NoGuard(intent);
            }

            @Override
            public boolean isIdle() {
                return true;
            }

            @Override
            public String describe() {
                return "unsafe-nolock: no lock";
            }
        };
        FaultHandler faults = (core, addr, access) -> fault(core, addr, access);
        return StrategyInstance.of(lock, faults, tree);
    }

    private static FaultOutcome fault(FaultCore core, long addr, Access access) {
        while (true) {
            FaultResult result = core.fault(NO_LOCK_ATTEMPT, core.tree().find(addr), addr, access);
            if (!result.isRetry()) {
                return result.outcome();
            }
        }
    }

    /** A fault attempt that claims everything a whole-space write guard holds, and holds no lock at all. */
    private static final FaultAttempt NO_LOCK_ATTEMPT = new HoldingFaultAttempt(CoarseHold.WRITE);

    /** A guard that claims everything and does nothing. */
    private static final class NoGuard implements MmLockGuard {
        private final LockIntent intent;

        NoGuard(LockIntent intent) {
            this.intent = intent;
        }

        @Override
        public LockIntent intent() {
            return intent;
        }

        @Override
        public boolean covers(long start, long end, boolean write) {
            return true;
        }

        @Override
        public CoarseHold coarseHold() {
            return CoarseHold.WRITE;
        }

        @Override
        public void startWrite(Vma vma) {}

        @Override
        public boolean dropsForPopulate() {
            return false;
        }

        @Override
        public void close() {}
    }
}
