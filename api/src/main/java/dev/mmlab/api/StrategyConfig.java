package dev.mmlab.api;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The validated option values for one strategy: every option the strategy declares, with its default where
 * the user gave none. Built by {@link #of}; immutable.
 */
public final class StrategyConfig {
    private final String strategy;
    private final Map<String, String> values;

    private StrategyConfig(String strategy, Map<String, String> values) {
        this.strategy = strategy;
        this.values = values;
    }

    /**
     * Validates {@code given} against {@code options}.
     *
     * @throws IllegalArgumentException for an unknown key or a bad value; the message lists the valid ones
     */
    public static StrategyConfig of(String strategy, List<StrategyOption> options, Map<String, String> given) {
        Map<String, StrategyOption> byKey = new LinkedHashMap<>();
        for (StrategyOption option : options) {
            byKey.put(option.key(), option);
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (StrategyOption option : options) {
            values.put(option.key(), option.defaultValue());
        }
        for (Map.Entry<String, String> e : given.entrySet()) {
            StrategyOption option = byKey.get(e.getKey());
            if (option == null) {
                String valid = options.isEmpty() ? "it takes no options"
                        : "valid: " + options.stream().map(StrategyOption::usage).collect(Collectors.joining(", "));
                throw new IllegalArgumentException(strategy + ": unknown option '" + e.getKey() + "' (" + valid + ")");
            }
            values.put(e.getKey(), option.validate(strategy, e.getValue()));
        }
        return new StrategyConfig(strategy, Map.copyOf(values));
    }

    public String strategy() {
        return strategy;
    }

    public String get(String key) {
        String v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException(strategy + " declares no option " + key);
        }
        return v;
    }

    public boolean bool(String key) {
        return Boolean.parseBoolean(get(key));
    }

    public long integer(String key) {
        return Long.parseLong(get(key));
    }

    public Map<String, String> values() {
        return values;
    }

    @Override
    public String toString() {
        return strategy + values;
    }
}
