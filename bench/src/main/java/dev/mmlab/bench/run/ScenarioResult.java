package dev.mmlab.bench.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One scenario compared across strategies: the JSON document {@code compare} writes.
 *
 * @param scenario its name
 * @param origin where it comes from
 * @param params every parameter with the value used
 * @param selfChecks whether the engine's self-checks ran during the measurement ({@link Runner.Options#selfChecks})
 * @param clock {@code wall} (Java threads on this machine) or {@code virtual} (simulated cores, virtual time)
 * @param profile under the virtual clock, the cost profile's name and hash; null on the wall clock
 * @param machine where it ran
 * @param runs one per strategy (under the virtual clock: per core count, then per strategy), in the order given
 */
@JsonPropertyOrder({"scenario", "origin", "params", "selfChecks", "clock", "profile", "machine", "runs"})
public record ScenarioResult(String scenario, String origin, Map<String, String> params, boolean selfChecks,
        String clock, @JsonInclude(JsonInclude.Include.NON_NULL) Profile profile, Machine machine,
        List<RunResult> runs) {
    /** The cost profile a virtual-time comparison used. */
    public record Profile(String name, String hash) {}

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

    /** The unsafe-nolock reference run comparable to {@code run} (same simulated cores), or null. */
    public RunResult referenceFor(RunResult run) {
        for (RunResult r : runs) {
            if (r.strategy().equals(UnsafeNoLockStrategy.NAME) && Objects.equals(r.cores(), run.cores())) {
                return r;
            }
        }
        return null;
    }

    /** Whether this comparison ran under the virtual clock. */
    public boolean virtual() {
        return "virtual".equals(clock);
    }
}
