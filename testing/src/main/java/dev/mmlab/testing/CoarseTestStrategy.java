package dev.mmlab.testing;

import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.sync.MmapLockFaultPath;
import dev.mmlab.api.sync.RwSemaphore;
import dev.mmlab.api.sync.RwsemMmLock;
import java.util.List;

/**
 * The coarse mmap lock built from the api's building blocks, for the tests of a module that must not depend on
 * a strategy module (the drivers). The api's own tests keep their copy in {@code dev.mmlab.api.testing}: the api
 * cannot depend on this module, which depends on it.
 */
final class CoarseTestStrategy implements LockingStrategy {
    @Override
    public String name() {
        return "coarse-test";
    }

    @Override
    public String description() {
        return "test-only coarse lock";
    }

    @Override
    public List<StrategyOption> options() {
        return List.of(StrategyOption.bool("faultRetry", true, "drop the lock for I/O"));
    }

    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        RwsemMmLock lock = new RwsemMmLock(new RwSemaphore("mmap_lock", context.waits()), true, true, null);
        VmaTree tree = new SnapshotVmaTree();
        FaultHandler faults = new MmapLockFaultPath(lock, tree, context.counters(), "coarse", config.bool("faultRetry"));
        return StrategyInstances.of(lock, faults, tree);
    }
}
