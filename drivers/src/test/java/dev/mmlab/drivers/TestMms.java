package dev.mmlab.drivers;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.sync.CoarseMmapLock;
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
            public List<StrategyOption> options() {
                return CoarseMmapLock.options();
            }

            @Override
            public StrategyInstance create(StrategyConfig config, MmContext context) {
                return CoarseMmapLock.create("coarse", config, context, new SnapshotVmaTree(), null).instance();
            }
        };
        return Mm.create(s, StrategyConfig.of(s.name(), s.options(), Map.of()), MmConfig.defaults());
    }
}
