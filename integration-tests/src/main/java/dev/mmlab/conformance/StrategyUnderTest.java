package dev.mmlab.conformance;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.StrategySpec;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One strategy with one validated configuration, as the kit runs it: a {@link Strategies.Selected} plus what the
 * kit expects of its locking granularity. Immutable; {@link #newMm} is thread-safe.
 */
public final class StrategyUnderTest {
    /** What a strategy promises about waits between operations whose true footprints are disjoint. */
    public enum Granularity {
        /** One lock for everything: disjoint work waits (false conflicts are expected and reported). */
        COARSE,
        /** Syscalls keep the coarse lock, faults do not: a fault never waits for disjoint work. */
        FAULTS,
        /** Syscalls and faults lock ranges: nothing waits for disjoint work. */
        ALL
    }

    private final Strategies.Selected selected;
    private final Granularity granularity;

    private StrategyUnderTest(Strategies.Selected selected, Granularity granularity) {
        this.selected = Objects.requireNonNull(selected);
        this.granularity = Objects.requireNonNull(granularity);
    }

    /** {@code strategy} with {@code options} (validated now), with the granularity the kit knows for its name. */
    public static StrategyUnderTest of(LockingStrategy strategy, Map<String, String> options) {
        StrategyConfig config = StrategyConfig.of(strategy.name(), strategy.options(), options);
        return of(strategy, options, knownGranularity(strategy.name(), config));
    }

    /** {@code strategy} with {@code options} and an explicit granularity promise. */
    public static StrategyUnderTest of(LockingStrategy strategy, Map<String, String> options, Granularity granularity) {
        StrategySpec spec = new StrategySpec(strategy.name(), options);
        StrategyConfig config = StrategyConfig.of(strategy.name(), strategy.options(), options);
        return new StrategyUnderTest(new Strategies.Selected(strategy, config, spec), granularity);
    }

    /** The strategy that {@code spec} ({@code rwsem:faultRetry=false}) names among the discovered ones. */
    public static StrategyUnderTest parse(String spec) {
        Strategies.Selected s = Strategies.discover().select(spec);
        return new StrategyUnderTest(s, knownGranularity(s.strategy().name(), s.config()));
    }

    /**
     * Every discovered strategy with its defaults and with each non-default choice of each boolean or choice
     * option (one option changed at a time). Integer options keep their default: they tune, they do not
     * change the protocol. When the system property {@value Strategies#PROPERTY} is set, only that spec.
     */
    public static List<StrategyUnderTest> discoverAllVariants() {
        String only = System.getProperty(Strategies.PROPERTY);
        if (only != null && !only.isBlank()) {
            return List.of(parse(only));
        }
        List<StrategyUnderTest> out = new ArrayList<>();
        for (LockingStrategy s : Strategies.discover().all()) {
            out.addAll(variants(s));
        }
        return out;
    }

    /** {@code strategy} with its defaults, then each behaviour-changing option value, one at a time. */
    public static List<StrategyUnderTest> variants(LockingStrategy strategy) {
        List<StrategyUnderTest> out = new ArrayList<>();
        out.add(of(strategy, Map.of()));
        for (StrategyOption option : strategy.options()) {
            if (option.integer()) {
                continue;
            }
            for (String choice : option.choices()) {
                if (!choice.equals(option.defaultValue())) {
                    Map<String, String> opts = new LinkedHashMap<>();
                    opts.put(option.key(), choice);
                    out.add(of(strategy, opts));
                }
            }
        }
        return out;
    }

    /**
     * What the designs in this repository promise (DESIGN.md): rangelock locks ranges for syscalls and faults;
     * speculative and pervma keep the mmap lock for syscalls and make only faults fine-grained; anything else
     * (rwsem, unknown third-party strategies) is treated as coarse, so the kit only reports its false conflicts.
     * Speculative faults validated by one per-mm sequence ({@code validation=mm}) abort whenever any thread
     * takes the write lock, and then wait for it: that mode promises nothing about disjoint work.
     */
    static Granularity knownGranularity(String name, StrategyConfig config) {
        switch (name) {
            case "rangelock":
                return Granularity.ALL;
            case "speculative":
                return "mm".equals(config.values().get("validation")) ? Granularity.COARSE : Granularity.FAULTS;
            case "pervma":
                return Granularity.FAULTS;
            default:
                return Granularity.COARSE;
        }
    }

    public Strategies.Selected selected() {
        return selected;
    }

    public LockingStrategy strategy() {
        return selected.strategy();
    }

    public String name() {
        return selected.strategy().name();
    }

    public Granularity granularity() {
        return granularity;
    }

    /** The same strategy and options with another granularity promise. */
    public StrategyUnderTest withGranularity(Granularity g) {
        return new StrategyUnderTest(selected, g);
    }

    /** The spec text, such as {@code rwsem:faultRetry=false}. */
    public String label() {
        return selected.label();
    }

    /** A new address space with default configuration (checking on, unlimited memory), watched by the watchdog. */
    public Mm newMm() {
        return newMm(MmConfig.defaults());
    }

    /** A new address space with {@code config}, watched by the {@link Watchdog}. */
    public Mm newMm(MmConfig config) {
        return Watchdog.watch(Mm.create(selected, config));
    }

    @Override
    public String toString() {
        return label();
    }
}
