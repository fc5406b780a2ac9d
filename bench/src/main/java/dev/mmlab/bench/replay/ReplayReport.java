package dev.mmlab.bench.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mmlab.bench.report.KernelLockUseTable;
import dev.mmlab.bench.report.LockUseTable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Tables and JSON for replay results. Stateless. */
public final class ReplayReport {
    private ReplayReport() {}

    /**
     * One row per strategy: events, syscalls/s, faults, fidelity differences, waits, false conflicts, violations,
     * and the replay's time ({@code wall ms}, or {@code virtual ms} under the virtual clock).
     */
    public static String table(List<ReplayResult> results) {
        StringBuilder sb = new StringBuilder();
        String format = "%-28s %9s %12s %9s %11s %9s %9s %10s %10s%n";
        boolean virtual = !results.isEmpty() && results.get(0).virtual();
        sb.append(String.format(Locale.ROOT, format, "strategy", "events", "syscalls/s", "faults", "fidel.diff",
                "waits", "false", "invariant", virtual ? "virtual ms" : "wall ms"));
        for (ReplayResult r : results) {
            Fidelity f = r.fidelity();
            sb.append(String.format(Locale.ROOT, format, r.strategy(), f.eventsReplayed(),
                    String.format(Locale.ROOT, "%.0f", r.syscallsPerSecond()), f.userFaults() + f.kernelFaults(),
                    f.differences(), r.waits().count(), r.waits().falseConflicts(), r.invariantViolations().size(),
                    String.format(Locale.ROOT, virtual ? "%.3f" : "%.1f", r.elapsedNanos() / 1e6)));
        }
        return sb.toString();
    }

    /** Per strategy and operation kind, how the operations were locked ({@link LockUseTable}); empty when none ran. */
    public static String lockUse(List<ReplayResult> results) {
        return LockUseTable.render(results.stream().map(r -> new LockUseTable.Row(r.strategy(), r.lockUse())).toList());
    }

    /**
     * The kernel's recorded mmap_lock acquisitions beside each strategy's read and write lock use
     * ({@link KernelLockUseTable}); empty when the trace has no mmap_lock events.
     */
    public static String kernelLockUse(List<ReplayResult> results, KernelLockUse kernel) {
        return KernelLockUseTable.render(kernel.counts(),
                results.stream().map(r -> new LockUseTable.Row(r.strategy(), r.lockUse())).toList());
    }

    /**
     * The kernel's mmap_lock hold and wait times ({@link KernelLockTimes}) for read and write, then each strategy's
     * lock waits in the replay; empty when the trace has no mmap_lock events. The two sets of waits are comparable
     * only under {@code --timing original} at {@code --speed 1} on the wall clock, where the replay's threads keep
     * the traced gaps: serial never waits and asap crowds the operations together.
     */
    public static String kernelLockTimes(List<ReplayResult> results, KernelLockTimes kernel) {
        if (!kernel.recorded()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("kernel vs model: mmap_lock hold and wait times in the trace (µs, as perf "
                + "prints them)\n");
        String format = "%-6s %10s %9s %9s %9s %10s %9s %9s %9s %12s%n";
        sb.append(String.format(Locale.ROOT, format, "lock", "holds", "p50", "p99", "max", "waits", "p50", "p99",
                "max", "waited ms"));
        appendSide(sb, format, "read", kernel.read());
        appendSide(sb, format, "write", kernel.write());
        if (!results.isEmpty()) {
            ReplayResult first = results.get(0);
            boolean comparable = first.timing() == ReplayTiming.ORIGINAL && first.speed() == 1 && !first.virtual();
            sb.append(comparable ? "the model's waits, in real time (timing original, speed 1):\n"
                    : "the model's waits (comparable with the kernel's only under --timing original --speed 1 on the "
                            + "wall clock; this run is " + first.timing().label() + "):\n");
            for (ReplayResult r : results) {
                sb.append(String.format(Locale.ROOT, "  %-26s %10d waits %12.3f waited ms%n", r.strategy(),
                        r.waits().count(), r.waits().waitNanos() / 1e6));
            }
        }
        return sb.toString();
    }

    private static void appendSide(StringBuilder sb, String format, String lock, KernelLockTimes.Side side) {
        KernelLockTimes.Summary hold = side.hold();
        KernelLockTimes.Summary wait = side.waiting();
        sb.append(String.format(Locale.ROOT, format, lock, hold.count(), micros(hold.p50Ns()), micros(hold.p99Ns()),
                micros(hold.maxNs()), wait.count(), micros(wait.p50Ns()), micros(wait.p99Ns()), micros(wait.maxNs()),
                String.format(Locale.ROOT, "%.3f", wait.totalNs() / 1e6)));
    }

    private static String micros(long ns) {
        return String.format(Locale.ROOT, "%.0f", ns / 1e3);
    }

    /**
     * One line saying how a forked process's first address space was built ({@link ReplayResult.ForkPrefix}), or
     * an empty string when it started empty.
     */
    public static String forkPrefix(ReplayResult r) {
        ReplayResult.ForkPrefix p = r.forkPrefix();
        if (!p.present()) {
            return "";
        }
        return String.format(Locale.ROOT, "pid %d starts as the fork of pid %d at line %d: %d events of its "
                + "ancestors up to it (the fork included) were replayed first, serially, and are not counted above "
                + "(%d differences, %s)%n",
                r.pid(), p.parentPid(), p.forkLineNo(), p.fidelity().eventsReplayed(), p.fidelity().differences(),
                String.format(Locale.ROOT, r.virtual() ? "%.3f virtual ms" : "%.1f ms", p.elapsedNanos() / 1e6));
    }

    /** The first differences of {@code r}, one per line, or an empty string. */
    public static String differences(ReplayResult r) {
        StringBuilder sb = new StringBuilder();
        for (Fidelity.Difference d : r.fidelity().firstDifferences()) {
            sb.append("  ").append(r.source()).append(':').append(d).append('\n');
        }
        return sb.toString();
    }

    /**
     * The JSON document: the trace, the clock ({@code wall} or {@code virtual}, with the cost profile's name and
     * hash and the seed under the virtual clock), and per strategy its operations (count, rate, latency in µs),
     * waits and false conflicts, counters, lock use ({@code lockUse}), invariant violations and fidelity. The replay's time is
     * {@code wallNanos} on the wall clock and {@code virtualNanos} under the virtual clock; every other time is on
     * the same clock. A virtual-time document has no field that depends on the host: the same trace, profile and
     * seed give the same document.
     */
    public static Map<String, Object> json(List<ReplayResult> results) {
        Map<String, Object> doc = new LinkedHashMap<>();
        if (!results.isEmpty()) {
            ReplayResult first = results.get(0);
            doc.put("trace", first.source());
            doc.put("pid", first.pid());
            doc.put("timing", first.timing().label());
            doc.put("speed", first.speed());
            doc.put("clock", first.clock());
            if (first.virtual()) {
                Map<String, Object> profile = new LinkedHashMap<>();
                profile.put("name", first.profile().name());
                profile.put("hash", first.profile().hash());
                doc.put("profile", profile);
                doc.put("seed", first.seed());
            }
        }
        List<Map<String, Object>> runs = new ArrayList<>();
        for (ReplayResult r : results) {
            Map<String, Object> run = new LinkedHashMap<>();
            run.put("strategy", r.strategy());
            run.put("images", r.images());
            String elapsed = r.virtual() ? "virtualNanos" : "wallNanos";
            run.put(elapsed, r.elapsedNanos());
            Map<String, Object> ops = new LinkedHashMap<>();
            r.operations().entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
                ReplayResult.OpStats s = e.getValue();
                Map<String, Object> op = new LinkedHashMap<>();
                op.put("count", s.count());
                op.put("perSecond", s.perSecond());
                op.put("meanMicros", s.meanMicros());
                op.put("p50Micros", s.p50Micros());
                op.put("p99Micros", s.p99Micros());
                op.put("maxMicros", s.maxMicros());
                ops.put(e.getKey(), op);
            });
            run.put("operations", ops);
            Map<String, Object> waits = new LinkedHashMap<>();
            waits.put("count", r.waits().count());
            waits.put("falseConflicts", r.waits().falseConflicts());
            waits.put("waitNanos", r.waits().waitNanos());
            waits.put("falseConflictWaitNanos", r.waits().falseConflictWaitNanos());
            run.put("waits", waits);
            run.put("counters", new java.util.TreeMap<>(r.counters()));
            run.put("lockUse", r.lockUse());
            run.put("invariantViolations", r.invariantViolations());
            Fidelity f = r.fidelity();
            Map<String, Object> fidelity = new LinkedHashMap<>();
            fidelity.put("eventsReplayed", f.eventsReplayed());
            fidelity.put("syscalls", f.syscalls());
            fidelity.put("syscallDifferences", f.syscallDifferences());
            fidelity.put("userFaults", f.userFaults());
            fidelity.put("faultDifferences", f.faultDifferences());
            fidelity.put("kernelFaults", f.kernelFaults());
            fidelity.put("forks", f.forks());
            List<Map<String, Object>> first = new ArrayList<>();
            for (Fidelity.Difference d : f.firstDifferences()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("line", d.lineNo());
                m.put("event", d.event());
                m.put("expected", d.expected());
                m.put("got", d.got());
                first.add(m);
            }
            fidelity.put("firstDifferences", first);
            run.put("fidelity", fidelity);
            ReplayResult.ForkPrefix prefix = r.forkPrefix();
            if (prefix.present()) {
                Map<String, Object> p = new LinkedHashMap<>();
                p.put("parentPid", prefix.parentPid());
                p.put("forkLine", prefix.forkLineNo());
                p.put("eventsReplayed", prefix.fidelity().eventsReplayed());
                p.put("differences", prefix.fidelity().differences());
                p.put(elapsed, prefix.elapsedNanos());
                run.put("forkPrefix", p);
            }
            runs.add(run);
        }
        doc.put("results", runs);
        return doc;
    }

    /**
     * {@link #json(List)} and, when the trace has mmap_lock events, a top-level {@code kernelLockUse}: the kernel's
     * acquisitions, shaped like {@code lockUse} (operation kind to {@code read} and {@code write}).
     */
    public static Map<String, Object> json(List<ReplayResult> results, KernelLockUse kernel) {
        Map<String, Object> doc = json(results);
        if (kernel.recorded()) {
            doc.put("kernelLockUse", kernel.counts());
        }
        return doc;
    }

    /**
     * {@link #json(List, KernelLockUse)} and, when the trace has mmap_lock events, a top-level
     * {@code kernelLockTimes}: {@code {read: {hold: {p50Ns, p99Ns, maxNs, count, totalNs}, wait: {...}}, write:
     * {...}}} ({@link KernelLockTimes}). Set the waits beside each result's {@code waits} only for a run with timing
     * {@code original} at speed 1 on the wall clock.
     */
    public static Map<String, Object> json(List<ReplayResult> results, KernelLockUse kernel, KernelLockTimes times) {
        Map<String, Object> doc = json(results, kernel);
        if (times.recorded()) {
            doc.put("kernelLockTimes", times.json());
        }
        return doc;
    }

    /** Writes {@link #json} to {@code file}, pretty-printed. */
    public static void writeJson(List<ReplayResult> results, Path file) throws IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), json(results));
    }

    /** Writes {@link #json(List, KernelLockUse, KernelLockTimes)} to {@code file}, pretty-printed. */
    public static void writeJson(List<ReplayResult> results, KernelLockUse kernel, KernelLockTimes times, Path file)
            throws IOException {
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(),
                json(results, kernel, times));
    }
}
