package dev.mmlab.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * Discovery of {@link LockingStrategy} providers, as SLF4J 2 finds its providers: each provider that fails to
 * load is reported and skipped, the others still load; two providers with one name are an error naming both
 * classes; the system property {@value #PROPERTY} picks one strategy by spec.
 */
public final class Strategies {
    /** System property selecting one strategy ({@code -Dmmlab.strategy=rwsem:faultRetry=false}). */
    public static final String PROPERTY = "mmlab.strategy";


    private final Map<String, LockingStrategy> byName;

    private Strategies(Map<String, LockingStrategy> byName) {
        this.byName = Collections.unmodifiableMap(byName);
    }

    /** Every strategy visible to {@code loader}, sorted by name. */
    public static Strategies discover(ClassLoader loader) {
        return of(load(ServiceLoader.load(LockingStrategy.class, loader).iterator()));
    }

    /** Every strategy on the class path of this class. */
    public static Strategies discover() {
        return discover(Strategies.class.getClassLoader());
    }

    /** The given strategies, checked for duplicate names. */
    public static Strategies of(List<LockingStrategy> strategies) {
        return new Strategies(ServiceProviders.byName(strategies, LockingStrategy::name, "strategies"));
    }

    static List<LockingStrategy> load(Iterator<LockingStrategy> it) {
        return ServiceProviders.load(it, "LockingStrategy");
    }

    public List<LockingStrategy> all() {
        return List.copyOf(byName.values());
    }

    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /**
     * The strategy named {@code name}.
     *
     * @throws IllegalArgumentException naming the strategies that exist
     */
    public LockingStrategy get(String name) {
        LockingStrategy s = byName.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no strategy named '" + name + "'; found: " + String.join(", ", names()));
        }
        return s;
    }

    /** The strategy of {@code spec} with its validated configuration. */
    public Selected select(StrategySpec spec) {
        LockingStrategy strategy = get(spec.name());
        return new Selected(strategy, StrategyConfig.of(strategy.name(), strategy.options(), spec.options()), spec);
    }

    /** Parses and selects {@code spec}. */
    public Selected select(String spec) {
        return select(StrategySpec.parse(spec));
    }

    /**
     * Selects each of {@code specs} in order; {@code all}, and an empty list, stand for every strategy here with
     * its defaults.
     *
     * @throws IllegalArgumentException for an unknown strategy or a bad option
     */
    public List<Selected> selectAll(List<String> specs) {
        List<Selected> selected = new ArrayList<>();
        for (String s : specs.isEmpty() ? List.of("all") : specs) {
            if (s.equals("all")) {
                for (String name : names()) {
                    selected.add(select(name));
                }
            } else {
                selected.add(select(s));
            }
        }
        return selected;
    }

    /** A strategy with its configuration: everything needed to create address spaces. */
    public record Selected(LockingStrategy strategy, StrategyConfig config, StrategySpec spec) {
        public String label() {
            return spec.toString();
        }
    }

    /** Names with descriptions, for listings. */
    public Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        byName.forEach((n, s) -> out.put(n, s.description()));
        return out;
    }
}
