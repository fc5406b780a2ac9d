package dev.mmlab.bench.run;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/**
 * One scenario compared across strategies: the JSON document {@code compare} writes.
 *
 * @param scenario its name
 * @param origin where it comes from
 * @param params every parameter with the value used
 * @param selfChecks whether the engine's self-checks ran during the measurement ({@link Runner.Options#selfChecks})
 * @param machine where it ran
 * @param runs one per strategy, in the order given
 */
@JsonPropertyOrder({"scenario", "origin", "params", "selfChecks", "machine", "runs"})
public record ScenarioResult(String scenario, String origin, Map<String, String> params, boolean selfChecks, Machine machine,
        List<RunResult> runs) {
    /** The machine: cores the JVM sees and the JVM's version and vendor. */
    public record Machine(int cores, String jvm) {
        public static Machine current() {
            return new Machine(Runtime.getRuntime().availableProcessors(),
                    System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        }
    }

    /** The run of the unsafe-nolock reference, or null when it did not run. */
    public RunResult reference() {
        for (RunResult r : runs) {
            if (r.strategy().equals(UnsafeNoLockStrategy.NAME)) {
                return r;
            }
        }
        return null;
    }
}
