package dev.mmlab.bench.plugin;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.Strategies;
import java.util.Map;

/** rwsem whose fault handler always throws: a broken third-party strategy, for worker failures. */
public final class FaultThrowingRwsem implements LockingStrategy {
    public static final String NAME = "fault-throwing";

    private final LockingStrategy rwsem = Strategies.discover(LockingStrategy.class.getClassLoader()).get("rwsem");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "rwsem whose fault handler throws";
    }

    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        StrategyInstance inner = rwsem.create(StrategyConfig.of("rwsem", rwsem.options(), Map.of()), context);
        return StrategyInstance.of(inner.mmLock(), (core, addr, access) -> {
            throw new IllegalStateException("fault handler broken on purpose");
        }, inner.vmaTree());
    }
}
