package dev.mmlab.bench.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/**
 * One scenario run under one strategy, in the JSON contract's shape.
 *
 * @param strategy the strategy label ({@code rwsem:faultRetry=false})
 * @param cores under the virtual clock, the simulated cores of this run; null on the wall clock
 * @param seconds the measured window's length (virtual seconds under the virtual clock)
 * @param ops per {@code role/op}, in role order
 * @param waits lock waits in the window
 * @param counters engine and strategy counters accumulated in the window
 * @param lockUse how the operations in the window were locked, per operation kind ({@code fault}, {@code mmap},
 *     ...) and use ({@code read}, {@code write}, {@code none}, {@code fallback}, {@code retry}): see the api's
 *     {@code LockUse}; sorted, so a virtual-clock run prints it the same every time
 * @param invariantViolations what the invariant checker found at the end, plus one when threads did not stop or
 *        the simulation failed; worker failures are apart, in {@code workerFailures}
 * @param violations the first few violations as sentences (absent when none)
 * @param error why the run failed, or null
 * @param workerFailures each distinct exception a worker thread threw (the first few), empty when none
 */
@JsonPropertyOrder({"strategy", "cores", "seconds", "ops", "waits", "counters", "lockUse", "invariantViolations",
    "violations", "workerFailures", "error"})
public record RunResult(String strategy, @JsonInclude(JsonInclude.Include.NON_NULL) Integer cores, double seconds, Map<String, OpStats> ops, WaitStats waits,
        Map<String, Long> counters,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) Map<String, Map<String, Long>> lockUse, int invariantViolations,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> violations,
        @JsonInclude(JsonInclude.Include.NON_NULL) String error, List<WorkerFailure> workerFailures) {
    public RunResult {
        workerFailures = List.copyOf(workerFailures);
    }

    /** A run in which no worker failed. */
    public RunResult(String strategy, Integer cores, double seconds, Map<String, OpStats> ops, WaitStats waits,
            Map<String, Long> counters, Map<String, Map<String, Long>> lockUse, int invariantViolations,
            List<String> violations, String error) {
        this(strategy, cores, seconds, ops, waits, counters, lockUse, invariantViolations, violations, error, List.of());
    }

    /** This result as a run on {@code n} simulated cores. */
    public RunResult withCores(int n) {
        return new RunResult(strategy, n, seconds, ops, waits, counters, lockUse, invariantViolations, violations,
                error, workerFailures);
    }

    /** Whether the run failed: an invariant violation, a worker that threw, or threads that did not stop. */
    public boolean failed() {
        return invariantViolations > 0 || !workerFailures.isEmpty() || error != null;
    }
}
