package dev.mmlab.drivers;

import dev.mmlab.api.Linux;
import dev.mmlab.api.mem.LatencyModel;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The validated parameters of one driver instance: every key must be one the driver declares, and every
 * value parses, else {@link IllegalArgumentException} naming the driver, the key and what is valid.
 */
public final class DriverParams {
    private final String driver;
    private final Map<String, String> values;

    private DriverParams(String driver, Map<String, String> values) {
        this.driver = driver;
        this.values = values;
    }

    /**
     * {@code given} checked against {@code defaults} (the valid keys with their default values).
     *
     * @throws IllegalArgumentException for a key not in {@code defaults}, listing the valid keys
     */
    public static DriverParams of(String driver, Map<String, String> defaults, Map<String, String> given) {
        Map<String, String> merged = new LinkedHashMap<>(defaults);
        for (Map.Entry<String, String> e : given.entrySet()) {
            if (!defaults.containsKey(e.getKey())) {
                Set<String> valid = new TreeSet<>(defaults.keySet());
                throw new IllegalArgumentException("driver " + driver + " has no parameter '" + e.getKey()
                        + "'; valid: " + (valid.isEmpty() ? "(none)" : String.join(", ", valid)));
            }
            merged.put(e.getKey(), e.getValue());
        }
        return new DriverParams(driver, merged);
    }

    /** A size such as {@code 4096}, {@code 64k}, {@code 16m} or {@code 1g}: positive and page aligned. */
    public long size(String key) {
        String text = values.get(key).trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (text.endsWith("k") || text.endsWith("m") || text.endsWith("g")) {
            unit = text.endsWith("k") ? 1L << 10 : text.endsWith("m") ? 1L << 20 : 1L << 30;
            text = text.substring(0, text.length() - 1);
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(Long.parseLong(text), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw bad(key, "a size such as 4096, 64k, 16m or 1g");
        }
        if (bytes <= 0 || bytes % Linux.PAGE_SIZE != 0) {
            throw bad(key, "a positive multiple of the page size (4096)");
        }
        return bytes;
    }

    /** A latency as {@link LatencyModel#parse} reads it ({@code 2ms}, {@code uniform:1ms..5ms}, {@code exp:3ms}). */
    public LatencyModel latency(String key) {
        try {
            return LatencyModel.parse(values.get(key));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("driver " + driver + ": " + key + ": " + e.getMessage(), e);
        }
    }

    /** A probability in [0, 1]. */
    public double probability(String key) {
        double p;
        try {
            p = Double.parseDouble(values.get(key).trim());
        } catch (NumberFormatException e) {
            throw bad(key, "a number within [0, 1]");
        }
        if (!(p >= 0 && p <= 1)) {
            throw bad(key, "a number within [0, 1]");
        }
        return p;
    }

    public long integer(String key) {
        try {
            return Long.parseLong(values.get(key).trim());
        } catch (NumberFormatException e) {
            throw bad(key, "an integer");
        }
    }

    public String string(String key) {
        return values.get(key);
    }

    /** Every parameter with its value, defaults included. */
    public Map<String, String> values() {
        return Map.copyOf(values);
    }

    private IllegalArgumentException bad(String key, String expected) {
        return new IllegalArgumentException("driver " + driver + ": " + key + "=" + values.get(key)
                + " is not valid; expected " + expected);
    }
}
