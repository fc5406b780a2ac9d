package dev.mmlab.api;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One option a strategy accepts: its key, one-line description, default, and the values it accepts
 * ({@code true|false}, a list of words, or any integer).
 */
public record StrategyOption(String key, String description, String defaultValue, List<String> choices,
        boolean integer) {
    public StrategyOption {
        Objects.requireNonNull(key);
        Objects.requireNonNull(description);
        choices = List.copyOf(choices);
        if (!integer && !choices.contains(defaultValue)) {
            throw new IllegalArgumentException("default '" + defaultValue + "' of " + key + " is not among " + choices);
        }
    }

    public static StrategyOption bool(String key, boolean defaultValue, String description) {
        return new StrategyOption(key, description, Boolean.toString(defaultValue), List.of("true", "false"), false);
    }

    public static StrategyOption choice(String key, String defaultValue, String description, String... choices) {
        return new StrategyOption(key, description, defaultValue, List.of(choices), false);
    }

    public static StrategyOption integer(String key, long defaultValue, String description) {
        return new StrategyOption(key, description, Long.toString(defaultValue), List.of(), true);
    }

    /** The canonical form of {@code value}, or an error saying what is accepted. */
    String validate(String strategy, String value) {
        if (integer) {
            try {
                return Long.toString(Long.decode(value.trim()));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(strategy + ": option " + key + " needs an integer, got '" + value + "'");
            }
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        for (String choice : choices) {
            if (choice.toLowerCase(Locale.ROOT).equals(v)) {
                return choice;
            }
        }
        throw new IllegalArgumentException(strategy + ": option " + key + " accepts " + String.join("|", choices)
                + ", got '" + value + "'");
    }

    /** {@code key=a|b (default a)}: how {@code list} shows it. */
    public String usage() {
        return key + "=" + (integer ? "N" : String.join("|", choices)) + " (default " + defaultValue + ")";
    }
}
