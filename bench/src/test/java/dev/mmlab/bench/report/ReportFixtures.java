package dev.mmlab.bench.report;

import dev.mmlab.bench.run.OpStats;
import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.ScenarioResult;
import dev.mmlab.bench.run.WaitStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/** Comparison results built by hand, so report tests need no run. */
final class ReportFixtures {
    static final List<String> STRATEGIES = List.of("rwsem", "pervma", "speculative");
    static final List<Integer> CORES = List.of(1, 4, 16, 64);
    private static final double SECONDS = 0.002;

    private ReportFixtures() {}

    /** fault-vs-mmap on the wall clock: one run per strategy. */
    static ScenarioResult wall() {
        List<RunResult> runs = new ArrayList<>();
        for (int s = 0; s < STRATEGIES.size(); s++) {
            runs.add(run(STRATEGIES.get(s), null, 2, s));
        }
        return result("wall", null, runs);
    }

    /** fault-vs-mmap under the virtual clock: per core count, then per strategy, as compare runs them. */
    static ScenarioResult virtual() {
        List<RunResult> runs = new ArrayList<>();
        for (int cores : CORES) {
            for (int s = 0; s < STRATEGIES.size(); s++) {
                runs.add(run(STRATEGIES.get(s), cores, cores, s));
            }
        }
        return result("virtual", new ScenarioResult.Profile("linux-x86", "0123abcd"), runs);
    }

    private static ScenarioResult result(String clock, ScenarioResult.Profile profile, List<RunResult> runs) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("faulters", "2");
        return new ScenarioResult("fault-vs-mmap", "the talk's false sharing", params, false, clock, profile,
                new ScenarioResult.Machine(2, "Test VM 17"), runs);
    }

    /** A run whose fault rate grows with {@code threads} (less for rwsem) and whose waits grow with it too. */
    private static RunResult run(String strategy, Integer cores, int threads, int index) {
        double scaling = strategy.equals("rwsem") ? Math.sqrt(threads) : threads;
        Map<String, OpStats> ops = new LinkedHashMap<>();
        ops.put("faulters/fault", stats((long) (1000 * scaling), 300 + 50L * index));
        ops.put("mapper/iteration", stats(40 + 10L * index, 12_000));
        long waits = (threads - 1) * (strategy.equals("rwsem") ? 100L : 3L);
        List<WaitStats.Cause> causes = waits == 0 ? List.of() : List.of(
                new WaitStats.Cause("faulters/fault", "mapper/iteration", true, waits, waits * 2_000),
                new WaitStats.Cause("mapper/iteration", "faulters/fault", false, 1, 500));
        WaitStats w = waits == 0 ? new WaitStats(0, 0, 0, 0, causes)
                : new WaitStats(waits + 1, 1, waits * 2_000 + 500, 500, causes);
        Map<String, Long> counters = new LinkedHashMap<>();
        counters.put("faults.anon", ops.get("faulters/fault").count());
        Map<String, Map<String, Long>> lockUse = new TreeMap<>();
        long faults = ops.get("faulters/fault").count();
        boolean coarse = strategy.equals("rwsem");
        lockUse.put("fault", lockUseRow(coarse ? faults : 1, 0, coarse ? 0 : faults - 1, coarse ? 0 : 1, 0));
        lockUse.put("mmap", lockUseRow(0, ops.get("mapper/iteration").count(), 0, 0, 0));
        return new RunResult(strategy, cores, SECONDS, ops, w, counters, lockUse, 0, List.of(), null);
    }

    static Map<String, Long> lockUseRow(long read, long write, long none, long fallback, long retry) {
        Map<String, Long> row = new LinkedHashMap<>();
        row.put("read", read);
        row.put("write", write);
        row.put("none", none);
        row.put("fallback", fallback);
        row.put("retry", retry);
        return row;
    }

    private static OpStats stats(long count, long typicalNs) {
        Histogram h = new Histogram(3);
        h.recordValueWithCount(typicalNs, count - count / 10);
        h.recordValueWithCount(typicalNs * 4, count / 10);
        h.recordValue(typicalNs * 40);
        return OpStats.of(h, SECONDS);
    }
}
