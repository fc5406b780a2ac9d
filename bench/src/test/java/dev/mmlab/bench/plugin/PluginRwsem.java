package dev.mmlab.bench.plugin;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.Strategies;

/**
 * rwsem under another name, declared in no services file of the test class path: the strategy a test plugin
 * jar declares, so it can be found only through {@code --plugins}.
 */
public final class PluginRwsem implements LockingStrategy {
    public static final String NAME = "plugin-rwsem";

    private final LockingStrategy rwsem = Strategies.discover(LockingStrategy.class.getClassLoader()).get("rwsem");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "rwsem, loaded from a plugin jar";
    }

    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        return rwsem.create(StrategyConfig.of("rwsem", rwsem.options(), java.util.Map.of()), context);
    }
}
