package dev.mmlab.api.sim;

import dev.mmlab.api.sync.Cost;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What each engine step and lock operation costs under the virtual clock, in nanoseconds: one number per
 * {@link Cost}, with where it comes from. A profile is a text file, one step a line:
 *
 * <pre>
 * # comments start with '#'
 * FAULT_ANON = 1100   # where the number comes from
 * </pre>
 *
 * Every step must be given exactly once. {@code linux-x86} ships with mmlab; {@code mmlab calibrate} writes
 * one for this machine. A profile's hash (of its steps and numbers, not of its comments) goes into every
 * report made with it.
 */
public final class CostProfile {
    /** The profile the virtual clock uses unless told otherwise. */
    public static final String DEFAULT = "linux-x86";
    private static final List<String> BUILT_IN = List.of(DEFAULT);

    private final String name;
    private final Map<Cost, Long> nanos;
    private final Map<Cost, String> sources;
    private final long[] table;
    private final String hash;

    private CostProfile(String name, Map<Cost, Long> nanos, Map<Cost, String> sources) {
        this.name = name;
        this.nanos = Map.copyOf(nanos);
        this.sources = Map.copyOf(sources);
        this.table = new long[Cost.values().length];
        nanos.forEach((c, n) -> table[c.ordinal()] = n);
        this.hash = hashOf(table);
    }

    /** The built-in profile {@code name}, or the profile file at {@code name}. */
    public static CostProfile named(String name) {
        if (BUILT_IN.contains(name)) {
            try (InputStream in = CostProfile.class.getResourceAsStream(name + ".profile")) {
                if (in == null) {
                    throw new IllegalStateException("built-in profile " + name + " is missing from the jar");
                }
                return parse(name, new String(in.readAllBytes(), StandardCharsets.UTF_8), name);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the built-in profile " + name, e);
            }
        }
        Path file = Path.of(name);
        try {
            return parse(file.getFileName().toString().replaceFirst("\\.profile$", ""), Files.readString(file), name);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no cost profile named '" + name + "': built in are " + BUILT_IN
                    + ", or give a profile file (mmlab calibrate writes one)");
        } catch (IOException e) {
            throw new IllegalArgumentException(name + ": cannot read the profile: " + e.getMessage(), e);
        }
    }

    /**
     * Parses profile text. {@code where} names the text in errors ({@code where:LINE: what is wrong}).
     *
     * @throws IllegalArgumentException for a malformed line, an unknown or repeated step, a negative number,
     *     or a step left out
     */
    public static CostProfile parse(String name, String text, String where) {
        Map<Cost, Long> nanos = new EnumMap<>(Cost.class);
        Map<Cost, String> sources = new EnumMap<>(Cost.class);
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int hashAt = line.indexOf('#');
            String body = (hashAt < 0 ? line : line.substring(0, hashAt)).trim();
            if (body.isEmpty()) {
                continue;
            }
            String at = where + ":" + (i + 1) + ": ";
            int eq = body.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException(at + "expected STEP = NANOSECONDS, got '" + body + "'");
            }
            String key = body.substring(0, eq).trim();
            Cost cost;
            try {
                cost = Cost.valueOf(key);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(at + "unknown step '" + key + "'; valid: " + Arrays.toString(Cost.values()));
            }
            long value;
            try {
                value = Long.parseLong(body.substring(eq + 1).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(at + "'" + body.substring(eq + 1).trim() + "' is not a whole number of nanoseconds");
            }
            if (value < 0) {
                throw new IllegalArgumentException(at + "a cost cannot be negative");
            }
            if (nanos.put(cost, value) != null) {
                throw new IllegalArgumentException(at + key + " is given twice");
            }
            sources.put(cost, hashAt < 0 ? "" : line.substring(hashAt + 1).trim());
        }
        List<Cost> missing = Arrays.stream(Cost.values()).filter(c -> !nanos.containsKey(c)).collect(Collectors.toList());
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(where + ": steps without a cost: " + missing);
        }
        return new CostProfile(name, nanos, sources);
    }

    public String name() {
        return name;
    }

    /** The first 12 hex digits of a SHA-256 over the steps and their numbers, in step order. */
    public String hash() {
        return hash;
    }

    /** Nanoseconds for one step of {@code cost}. */
    public long nanos(Cost cost) {
        return table[cost.ordinal()];
    }

    /** Where {@code cost}'s number comes from, as the profile says (may be empty). */
    public String source(Cost cost) {
        return sources.get(cost);
    }

    /** Every step with its number. */
    public Map<Cost, Long> steps() {
        return nanos;
    }

    private static String hashOf(long[] table) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (Cost c : Cost.values()) {
                sha.update((c.name() + "=" + table[c.ordinal()] + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(sha.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return name + " (" + hash + ")";
    }
}
