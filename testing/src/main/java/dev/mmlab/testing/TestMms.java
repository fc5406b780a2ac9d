package dev.mmlab.testing;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.api.testing.CoarseTestStrategy;
import java.util.Map;

/**
 * Address spaces for tests: under a strategy object with options, under a discovered strategy named by a spec
 * ({@code rwsem:faultRetry=false}), or under the coarse test strategy. Checking is on in every one of them
 * ({@link MmConfig#defaults()}): lock assertions and engine self-checks, which a test wants and a benchmark
 * turns off.
 */
public final class TestMms {
    private TestMms() {}

    /** An address space under {@code strategy} with its default options. */
    public static Mm create(LockingStrategy strategy) {
        return create(strategy, Map.of());
    }

    /** An address space under {@code strategy} with {@code options} (validated against its declared options). */
    public static Mm create(LockingStrategy strategy, Map<String, String> options) {
        return Mm.create(strategy, StrategyConfig.of(strategy.name(), strategy.options(), options), MmConfig.defaults());
    }

    /** An address space under the discovered strategy {@code spec} names, e.g. {@code speculative:validation=mm}. */
    public static Mm create(String spec) {
        return create(Strategies.discover().select(spec));
    }

    /** An address space under a strategy already selected from the discovered ones. */
    public static Mm create(Strategies.Selected selected) {
        return Mm.create(selected, MmConfig.defaults());
    }

    /** An address space under the api's coarse test strategy, for modules below the strategies. */
    public static Mm coarse() {
        return create(new CoarseTestStrategy());
    }
}
