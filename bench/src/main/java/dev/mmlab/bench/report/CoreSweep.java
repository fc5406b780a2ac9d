package dev.mmlab.bench.report;

import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.ScenarioResult;
import java.awt.Paint;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A comparison's runs seen as a sweep over simulated core counts: the strategies and operations in run order,
 * the core counts run, and the run of a strategy at a core count. Under the virtual clock there is one run per
 * strategy per core count; on the wall clock one per strategy and no core counts.
 */
final class CoreSweep {
    private final ScenarioResult result;
    private final List<String> strategies;
    private final List<String> ops;
    private final List<Integer> cores;

    private CoreSweep(ScenarioResult result) {
        this.result = result;
        Set<String> names = new LinkedHashSet<>();
        Set<String> opNames = new LinkedHashSet<>();
        Set<Integer> counts = new TreeSet<>();
        for (RunResult r : result.runs()) {
            names.add(r.strategy());
            opNames.addAll(r.ops().keySet());
            if (r.cores() != null) {
                counts.add(r.cores());
            }
        }
        strategies = List.copyOf(names);
        ops = List.copyOf(opNames);
        cores = List.copyOf(counts);
    }

    static CoreSweep of(ScenarioResult result) {
        return new CoreSweep(result);
    }

    ScenarioResult result() {
        return result;
    }

    /** Whether the runs span core counts (the virtual clock) rather than one run per strategy. */
    boolean virtual() {
        return result.virtual() && !cores.isEmpty();
    }

    /** Strategy labels in the order they first ran. */
    List<String> strategies() {
        return strategies;
    }

    /** Every {@code role/op} any run recorded, in role order. */
    List<String> ops() {
        return ops;
    }

    /** The core counts run, ascending; empty on the wall clock. */
    List<Integer> cores() {
        return cores;
    }

    /** The most cores any run had; only under the virtual clock. */
    int largest() {
        return cores.get(cores.size() - 1);
    }

    /** The runs on {@code n} cores, in run order. */
    List<RunResult> runsAt(int n) {
        List<RunResult> at = new ArrayList<>();
        for (RunResult r : result.runs()) {
            if (r.cores() != null && r.cores() == n) {
                at.add(r);
            }
        }
        return at;
    }

    /** The run of {@code strategy} on {@code n} cores, or null when it did not run there. */
    RunResult run(String strategy, int n) {
        for (RunResult r : runsAt(n)) {
            if (r.strategy().equals(strategy)) {
                return r;
            }
        }
        return null;
    }

    /**
     * The runs a chart of one run per strategy draws: every run on the wall clock, those at the largest core
     * count under the virtual clock (the scaling chart shows the others).
     */
    List<RunResult> shown() {
        return virtual() ? runsAt(largest()) : result.runs();
    }

    /**
     * The colour of {@code run}'s strategy, the same in every chart and table of the scenario: by run index on
     * the wall clock, as it always was, and by strategy under the virtual clock, where a strategy runs once per
     * core count.
     */
    Paint colour(RunResult run) {
        if (virtual()) {
            return Charts.colour(strategies.indexOf(run.strategy()));
        }
        List<RunResult> runs = result.runs();
        for (int i = 0; i < runs.size(); i++) {
            if (runs.get(i) == run) {
                return Charts.colour(i);
            }
        }
        throw new IllegalArgumentException("not a run of " + result.scenario() + ": " + run.strategy());
    }

    Paint colour(String strategy) {
        return Charts.colour(strategies.indexOf(strategy));
    }

    /** {@code text} followed by where its figures come from under the virtual clock ({@code " at 64 cores, virtual time"}). */
    String atLargest(String text) {
        return virtual() ? text + " at " + cores(largest()) + ", virtual time" : text;
    }

    /** {@code 1 core}, {@code 16 cores}. */
    static String cores(int n) {
        return n + (n == 1 ? " core" : " cores");
    }
}
