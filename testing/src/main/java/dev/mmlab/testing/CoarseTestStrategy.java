package dev.mmlab.testing;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.sync.CoarseMmapLock;
import java.util.List;

/**
 * The coarse mmap lock ({@link CoarseMmapLock}), for the tests of a module that must not depend on
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
        return CoarseMmapLock.options();
    }

    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        return CoarseMmapLock.create("coarse", config, context, new SnapshotVmaTree(), null).instance();
    }
}
