package dev.mmlab.api.testing;

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
 * The engine's own test strategy: the coarse mmap lock ({@code CoarseMmapLock}), so the engine can be tested
 * without a strategy module (those depend on the api, not the other way round). The modules below the
 * strategies (drivers) use it too, through the api's test-jar and {@code dev.mmlab.testing.TestMms.coarse()}.
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
        return CoarseMmapLock.options();
    }

    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        return CoarseMmapLock.create("coarse", config, context, new SnapshotVmaTree(), null).instance();
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
