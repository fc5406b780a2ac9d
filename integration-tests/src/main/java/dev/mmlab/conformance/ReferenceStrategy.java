package dev.mmlab.conformance;

import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.sync.MmapLockFaultPath;
import dev.mmlab.api.sync.RwSemaphore;
import dev.mmlab.api.sync.RwsemMmLock;

/**
 * The semantic reference when {@code rwsem} is not on the class path (a third party running the kit alone):
 * the plain coarse mmap lock assembled from the api's building blocks, with no mitigation switched on, so
 * nothing can be dropped or reordered. Not registered with {@link java.util.ServiceLoader}.
 */
public final class ReferenceStrategy implements LockingStrategy {
    @Override
    public String name() {
        return "kit-reference";
    }

    @Override
    public String description() {
        return "conformance kit reference: one mmap rwsem, no fault retry, no downgrade, populate under the lock";
    }

    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        RwsemMmLock lock = new RwsemMmLock(new RwSemaphore("mmap_lock", context.waits()), false, false, null);
        VmaTree tree = new SnapshotVmaTree();
        FaultHandler faults = new MmapLockFaultPath(lock, tree, context.counters(), name(), false);
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
}
