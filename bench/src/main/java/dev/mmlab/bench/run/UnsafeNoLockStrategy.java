package dev.mmlab.bench.run;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultAttempt;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.HoldingFaultAttempt;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
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
        return new StrategyInstance() {
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
        };
    }

    private static FaultOutcome fault(FaultCore core, long addr, Access access) {
        while (true) {
            Vma vma = core.tree().find(addr);
            FaultOutcome outcome = core.fault(NO_LOCK_ATTEMPT, vma, addr, access);
            if (outcome != FaultOutcome.RETRY) {
                return outcome;
            }
        }
    }

    /** A fault attempt that holds everything a guard claiming the whole space holds: no lock at all. */
    private static final FaultAttempt NO_LOCK_ATTEMPT = new HoldingFaultAttempt(
            new NoGuard(LockIntent.coarse(OpKind.FAULT, LockIntent.Mode.READ, 0, 1)));

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
        public LockNeed coarseLevel() {
            return LockNeed.COARSE_WRITE;
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
