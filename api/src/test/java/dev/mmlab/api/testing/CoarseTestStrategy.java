package dev.mmlab.api.testing;

import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.sync.MmapLockFaultPath;
import dev.mmlab.api.sync.RwSemaphore;
import dev.mmlab.api.sync.RwsemMmLock;
import java.util.List;
import java.util.Map;

/**
 * The engine's own test strategy: the coarse mmap lock built from the api's building blocks, so the engine can
 * be tested without a strategy module (those depend on the api, not the other way round).
 */
public final class CoarseTestStrategy implements LockingStrategy {
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

    /** A fresh address space under this strategy with default configuration. */
    public static Mm newMm() {
        return newMm(MmConfig.defaults());
    }

    public static Mm newMm(MmConfig config) {
        return newMm(config, Map.of());
    }

    /** An address space with strategy options, e.g. {@code faultRetry=false}. */
    public static Mm newMm(MmConfig config, Map<String, String> options) {
        CoarseTestStrategy s = new CoarseTestStrategy();
        return Mm.create(s, StrategyConfig.of(s.name(), s.options(), options), config);
    }
}
