package dev.mmlab.bench.report;

import dev.mmlab.bench.run.OpStats;
import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.ScenarioResult;
import java.util.Locale;
import java.util.Map;

/**
 * The plain-text table {@code compare} prints: one row per strategy and operation, then waits per strategy, then
 * how each strategy's operations were locked ({@link LockUseTable}).
 */
public final class TextTable {
    private TextTable() {}

    public static String render(ScenarioResult result) {
        StringBuilder sb = new StringBuilder();
        sb.append(result.scenario()).append(" -- ").append(result.origin()).append('\n');
        if (result.virtual()) {
            sb.append("virtual time: simulated cores, cost profile ").append(result.profile().name()).append(" (")
                    .append(result.profile().hash()).append("); every figure is virtual\n");
        }
        int sw = "strategy".length();
        int ow = "op".length();
        for (RunResult r : result.runs()) {
            sw = Math.max(sw, label(r).length());
            for (String op : r.ops().keySet()) {
                ow = Math.max(ow, op.length());
            }
        }
        boolean ref = result.reference() != null;
        String rowFormat = "%-" + sw + "s  %-" + ow + "s %10s %11s %9s %9s %9s %9s" + (ref ? " %9s" : "") + "%n";
        sb.append(String.format(Locale.ROOT, rowFormat, ref
                ? new Object[] {"strategy", "op", "count", "ops/s", "p50", "p99", "p99.9", "max", "vs nolock"}
                : new Object[] {"strategy", "op", "count", "ops/s", "p50", "p99", "p99.9", "max"}));
        for (RunResult r : result.runs()) {
            for (Map.Entry<String, OpStats> e : r.ops().entrySet()) {
                OpStats s = e.getValue();
                Object[] cells = {label(r), e.getKey(), Long.toString(s.count()), Format.rate(s.perSecond()),
                    Format.nanos(s.p50Ns()), Format.nanos(s.p99Ns()), Format.nanos(s.p999Ns()), Format.nanos(s.maxNs()),
                    Format.fraction(Comparisons.vsReference(result, r, e.getKey()))};
                sb.append(String.format(Locale.ROOT, rowFormat, ref ? cells : java.util.Arrays.copyOf(cells, 8)));
            }
        }
        for (RunResult r : result.runs()) {
            sb.append(String.format(Locale.ROOT, "%-" + sw + "s  waits %d (false %d), waited %s (false %s)%s%s%s%n",
                    label(r), r.waits().count(), r.waits().falseConflicts(), Format.nanos(r.waits().waitNs()),
                    Format.nanos(r.waits().falseConflictWaitNs()),
                    r.invariantViolations() > 0 ? ", INVARIANT VIOLATIONS " + r.invariantViolations() : "",
                    r.workerFailures().isEmpty() ? "" : ", WORKER FAILURES " + r.workerFailures().size(),
                    r.error() != null ? ", ERROR " + r.error() : ""));
        }
        sb.append(LockUseTable.render(result.runs().stream()
                .map(r -> new LockUseTable.Row(label(r), r.lockUse() == null ? Map.of() : r.lockUse())).toList()));
        return sb.toString();
    }

    /** The strategy, and under the virtual clock the simulated cores ({@code rwsem @16}). */
    private static String label(RunResult r) {
        return r.cores() == null ? r.strategy() : r.strategy() + " @" + r.cores();
    }
}
