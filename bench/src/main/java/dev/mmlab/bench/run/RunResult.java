package dev.mmlab.bench.run;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;
import java.util.Map;

/**
 * One scenario run under one strategy, in the JSON contract's shape.
 *
 * @param strategy the strategy label ({@code rwsem:faultRetry=false})
 * @param seconds the measured window's length
 * @param ops per {@code role/op}, in role order
 * @param waits lock waits in the window
 * @param counters engine and strategy counters accumulated in the window
 * @param invariantViolations what the invariant checker found at the end (plus one per worker failure)
 * @param violations the first few violations and failures as sentences (absent when none)
 * @param error why the run failed, or null
 */
@JsonPropertyOrder({"strategy", "seconds", "ops", "waits", "counters", "invariantViolations", "violations", "error"})
public record RunResult(String strategy, double seconds, Map<String, OpStats> ops, WaitStats waits,
        Map<String, Long> counters, int invariantViolations,
        @JsonInclude(JsonInclude.Include.NON_EMPTY) List<String> violations,
        @JsonInclude(JsonInclude.Include.NON_NULL) String error) {}
