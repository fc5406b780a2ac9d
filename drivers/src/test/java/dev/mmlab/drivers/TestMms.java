package dev.mmlab.drivers;

import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
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
 * Address spaces for the drivers' own tests: the coarse mmap lock assembled from the api's building blocks
 * (this module depends on the api only; the cross-strategy driver tests live in integration-tests).
 */
final class TestMms {
    private TestMms() {}

    static Mm coarse() {
        LockingStrategy s = new LockingStrategy() {
            @Override
            public String name() {
                return "coarse-test";
            }

            @Override
            public String description() {
                return "test-only coarse lock";
            }

            @Override
            public StrategyInstance create(StrategyConfig config, MmContext context) {
                RwsemMmLock lock = new RwsemMmLock(new RwSemaphore("mmap_lock", context.waits()), true, true, null);
                VmaTree tree = new SnapshotVmaTree();
                FaultHandler faults = new MmapLockFaultPath(lock, tree, context.counters(), "coarse", true);
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
        };
        return Mm.create(s, StrategyConfig.of(s.name(), List.of(), Map.of()), MmConfig.defaults());
    }
}
