package dev.mmlab.bench.report;

import dev.mmlab.bench.run.OpStats;
import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.ScenarioResult;

/** Derived figures reports show beside the raw ones. */
public final class Comparisons {
    private Comparisons() {}

    /**
     * The rate of {@code op} in {@code run} as a fraction of the unsafe-nolock reference's rate of the same
     * operation, or NaN when the reference did not run or did nothing.
     */
    public static double vsReference(ScenarioResult result, RunResult run, String op) {
        RunResult ref = result.referenceFor(run);
        if (ref == null) {
            return Double.NaN;
        }
        OpStats mine = run.ops().get(op);
        OpStats theirs = ref.ops().get(op);
        if (mine == null || theirs == null || theirs.perSecond() <= 0) {
            return Double.NaN;
        }
        return mine.perSecond() / theirs.perSecond();
    }
}
