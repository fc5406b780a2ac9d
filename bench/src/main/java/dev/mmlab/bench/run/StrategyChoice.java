package dev.mmlab.bench.run;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategySpec;
import dev.mmlab.api.Strategies;
import dev.mmlab.bench.UsageException;
import java.util.ArrayList;
import java.util.List;

/**
 * A strategy to run, with its validated options and the label results show ({@code rwsem:faultRetry=false}).
 *
 * @param strategy the strategy (a discovered one, or {@link UnsafeNoLockStrategy})
 * @param config its validated options
 * @param label the canonical spec text
 */
public record StrategyChoice(LockingStrategy strategy, StrategyConfig config, String label) {
    /** Whether this is the unsafe-nolock reference. */
    public boolean isUnsafeReference() {
        return strategy instanceof UnsafeNoLockStrategy;
    }

    /**
     * Resolves {@code specs} against {@code found}, in the order given: {@code all} expands to every discovered
     * strategy with its defaults (never unsafe-nolock); {@code unsafe-nolock} is the reference.
     *
     * @throws UsageException for a malformed spec, an unknown strategy or a bad option
     */
    public static List<StrategyChoice> resolve(List<String> specs, Strategies found) {
        List<StrategyChoice> out = new ArrayList<>();
        for (String text : specs) {
            StrategySpec spec;
            try {
                spec = StrategySpec.parse(text);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage(), e);
            }
            if (spec.name().equals("all") && spec.options().isEmpty()) {
                if (found.all().isEmpty()) {
                    throw new UsageException("no strategy found on the class path; build the strategy modules (mvn -B -DskipTests package)");
                }
                for (LockingStrategy s : found.all()) {
                    out.add(of(s, StrategyConfig.of(s.name(), s.options(), java.util.Map.of()), new StrategySpec(s.name(), java.util.Map.of())));
                }
                continue;
            }
            try {
                if (spec.name().equals(UnsafeNoLockStrategy.NAME)) {
                    UnsafeNoLockStrategy s = new UnsafeNoLockStrategy();
                    out.add(of(s, StrategyConfig.of(s.name(), s.options(), spec.options()), spec));
                } else if (!found.names().contains(spec.name())) {
                    throw new UsageException(found.unknown(spec.name(), List.of("all", UnsafeNoLockStrategy.NAME))
                            + " (see 'mmlab list')");
                } else {
                    Strategies.Selected sel = found.select(spec);
                    out.add(of(sel.strategy(), sel.config(), spec));
                }
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage(), e);
            }
        }
        return out;
    }

    private static StrategyChoice of(LockingStrategy s, StrategyConfig config, StrategySpec spec) {
        return new StrategyChoice(s, config, spec.toString());
    }
}
