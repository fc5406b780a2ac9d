package dev.mmlab.api;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A strategy chosen by name with option values, written {@code name} or {@code name:key=value,key=value}
 * (for example {@code rwsem:faultRetry=false}).
 */
public record StrategySpec(String name, Map<String, String> options) {
    public StrategySpec {
        options = Map.copyOf(options);
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException saying what is malformed and showing the expected form
     */
    public static StrategySpec parse(String text) {
        String t = text.trim();
        int colon = t.indexOf(':');
        String name = colon < 0 ? t : t.substring(0, colon).trim();
        if (name.isEmpty()) {
            throw new IllegalArgumentException("strategy spec '" + text + "' has no name; use NAME or NAME:key=value,key=value");
        }
        Map<String, String> options = new LinkedHashMap<>();
        if (colon >= 0) {
            for (String pair : t.substring(colon + 1).split(",")) {
                if (pair.isBlank()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("strategy spec '" + text + "': '" + pair.trim()
                            + "' is not key=value; use NAME:key=value,key=value");
                }
                String key = pair.substring(0, eq).trim();
                if (options.put(key, pair.substring(eq + 1).trim()) != null) {
                    throw new IllegalArgumentException("strategy spec '" + text + "' sets " + key + " twice");
                }
            }
        }
        return new StrategySpec(name, options);
    }

    /** The canonical text: name, then options in the order given. */
    @Override
    public String toString() {
        if (options.isEmpty()) {
            return name;
        }
        StringBuilder sb = new StringBuilder(name).append(':');
        options.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> sb.append(e.getKey()).append('=').append(e.getValue()).append(','));
        sb.setLength(sb.length() - 1);
        return sb.toString();
    }
}
