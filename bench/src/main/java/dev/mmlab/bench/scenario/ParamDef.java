package dev.mmlab.bench.scenario;

import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.bench.UsageException;
import java.util.Locale;
import java.util.Objects;

/**
 * One scenario parameter: key, type, default and a one-line description. Values are settable with
 * {@code --set key=value}; {@link #validate} turns a user's text into the canonical value or says what is
 * accepted.
 */
public record ParamDef(String key, Type type, String defaultValue, String description) {
    /** What a parameter holds. */
    public enum Type {
        /** A non-negative integer. */
        INT("N"),
        /** A size in bytes: {@code 4096}, {@code 64k}, {@code 2m}, {@code 1g}. */
        SIZE("SIZE"),
        BOOL("true|false"),
        /** A {@link LatencyModel}: {@code 2ms}, {@code uniform:1ms..5ms}, {@code exp:3ms}. */
        LATENCY("LATENCY"),
        /** A probability in [0, 1]. */
        PROBABILITY("P"),
        /** A free word ({@code none} when unset). */
        WORD("NAME");

        private final String shape;

        Type(String shape) {
            this.shape = shape;
        }

        public String shape() {
            return shape;
        }
    }

    public ParamDef {
        Objects.requireNonNull(key);
        Objects.requireNonNull(type);
        Objects.requireNonNull(defaultValue);
        Objects.requireNonNull(description);
    }

    public static ParamDef integer(String key, long def, String description) {
        return new ParamDef(key, Type.INT, Long.toString(def), description);
    }

    public static ParamDef size(String key, String def, String description) {
        return new ParamDef(key, Type.SIZE, def, description);
    }

    public static ParamDef bool(String key, boolean def, String description) {
        return new ParamDef(key, Type.BOOL, Boolean.toString(def), description);
    }

    public static ParamDef latency(String key, String def, String description) {
        return new ParamDef(key, Type.LATENCY, def, description);
    }

    public static ParamDef probability(String key, double def, String description) {
        return new ParamDef(key, Type.PROBABILITY, Double.toString(def), description);
    }

    public static ParamDef word(String key, String def, String description) {
        return new ParamDef(key, Type.WORD, def, description);
    }

    /**
     * The canonical text of {@code value} for this parameter.
     *
     * @throws UsageException naming the parameter and the accepted form
     */
    public String validate(String scenario, String value) {
        String v = value.trim();
        try {
            switch (type) {
                case INT:
                    long n = Long.decode(v);
                    if (n < 0) {
                        throw new IllegalArgumentException("negative");
                    }
                    return Long.toString(n);
                case SIZE:
                    return Long.toString(parseSize(v));
                case BOOL:
                    String b = v.toLowerCase(Locale.ROOT);
                    if (!b.equals("true") && !b.equals("false")) {
                        throw new IllegalArgumentException("not a boolean");
                    }
                    return b;
                case LATENCY:
                    LatencyModel.parse(v);
                    return v;
                case PROBABILITY:
                    double p = Double.parseDouble(v);
                    if (!(p >= 0 && p <= 1)) {
                        throw new IllegalArgumentException("outside [0, 1]");
                    }
                    return Double.toString(p);
                case WORD:
                default:
                    if (v.isEmpty()) {
                        throw new IllegalArgumentException("empty");
                    }
                    return v;
            }
        } catch (IllegalArgumentException e) {
            throw new UsageException(scenario + ": bad value '" + value + "' for " + key + "; expected " + usage());
        }
    }

    /** {@code key=SHAPE (default D)}, as {@code list} shows it. */
    public String usage() {
        return key + "=" + type.shape() + " (default " + defaultValue + ")";
    }

    /** Parses {@code 4096}, {@code 64k}, {@code 2m}, {@code 1g} (case-insensitive, optional trailing {@code b}). */
    public static long parseSize(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.endsWith("b")) {
            t = t.substring(0, t.length() - 1);
        }
        long mult = 1;
        if (t.endsWith("k")) {
            mult = 1L << 10;
        } else if (t.endsWith("m")) {
            mult = 1L << 20;
        } else if (t.endsWith("g")) {
            mult = 1L << 30;
        }
        if (mult != 1) {
            t = t.substring(0, t.length() - 1);
        }
        long n = Long.parseLong(t.trim());
        if (n < 0) {
            throw new IllegalArgumentException("negative size");
        }
        return Math.multiplyExact(n, mult);
    }
}
