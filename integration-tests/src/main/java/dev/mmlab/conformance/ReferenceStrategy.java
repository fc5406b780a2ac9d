package dev.mmlab.conformance;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.sync.CoarseMmapLock;
import java.util.Map;

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
        StrategyConfig noMitigations = StrategyConfig.of(name(), CoarseMmapLock.options(),
                Map.of("faultRetry", "false", "populateDropsLock", "false", "munmapDowngrade", "false"));
        return CoarseMmapLock.create(name(), noMitigations, context, new SnapshotVmaTree(), null).instance();
    }
}
