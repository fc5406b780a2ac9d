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


    /** What a jar needs for its strategy to be found, for the message about an unknown name. */
    public static final String HOW_TO_PROVIDE = "a jar provides a strategy with a file META-INF/services/"
            + LockingStrategy.class.getName() + " naming its class";

    private final Map<String, LockingStrategy> byName;
    /** Where discovery looked, for the message about an unknown name: "built in" and any plugin jars. */
    private final List<String> searched;

    private Strategies(Map<String, LockingStrategy> byName, List<String> searched) {
        this.byName = Collections.unmodifiableMap(byName);
        this.searched = List.copyOf(searched);
    }

    /** Every strategy visible to {@code loader}, sorted by name. */
    public static Strategies discover(ClassLoader loader) {
        List<LockingStrategy> found = load(ServiceLoader.load(LockingStrategy.class, loader).iterator());
        return new Strategies(ServiceProviders.byName(found, LockingStrategy::name, "strategies"),
                ServiceProviders.searched(loader));
    }

    /**
     * Every strategy visible to this thread's context class loader (the class path, plus the plugin jars the
     * CLI adds there), or to this class's loader when the thread has none.
     */
    public static Strategies discover() {
        return discover(ServiceProviders.contextLoader());
    }

    /** The given strategies, checked for duplicate names. */
    public static Strategies of(List<LockingStrategy> strategies) {
        return new Strategies(ServiceProviders.byName(strategies, LockingStrategy::name, "strategies"), List.of("built in"));
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
            throw new IllegalArgumentException(unknown(name, List.of()));
        }
        return s;
    }

    /**
     * Why {@code name} names no strategy: the names found (and {@code alsoValid}, names a caller accepts
     * besides), where discovery looked, and what a jar needs to provide one.
     */
    public String unknown(String name, List<String> alsoValid) {
        List<String> valid = new ArrayList<>(names());
        valid.addAll(alsoValid);
        return "no strategy named '" + name + "'; found: " + String.join(", ", valid) + "; looked in: "
                + String.join(", ", searched) + "; " + HOW_TO_PROVIDE;
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
