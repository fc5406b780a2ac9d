package dev.mmlab.bench.report;

import dev.mmlab.bench.run.OpStats;
import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.ScenarioResult;
import dev.mmlab.bench.run.WaitStats;
import java.awt.Paint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The self-contained HTML report: per scenario its table, a latency-percentile curve and a throughput bar
 * chart per operation, who blocked whom, and the strategy counters. Charts are PNGs inlined as data URIs, so
 * the file can be mailed or attached as it is. A chart that cannot be drawn (no fonts on a bare machine) is
 * replaced by a note; the rest of the report is still written.
 *
 * <p>Under the virtual clock a scenario ran once per strategy per core count, so its section opens with the
 * scaling chart and a table of rates per core count; the per-operation charts show the largest core count;
 * who blocked whom is a table of waits per strategy and core count with each count's causes folded below
 * it. A wall-clock scenario's section is as it always was.
 */
public final class HtmlReport {
    private static final Logger LOG = LoggerFactory.getLogger(HtmlReport.class);
    /** Causes shown per strategy in the who-blocked-whom table. */
    private static final int TOP_CAUSES = 8;
    /** Styles only the virtual-clock sections use, so a wall-clock report stays byte for byte as it was. */
    private static final String VIRTUAL_STYLE = "details{margin:6px 0} summary{cursor:pointer;font-size:14px}\n"
            + "details>*:not(summary){margin-left:18px} td .muted{font-size:11px}\n";

    private HtmlReport() {}

    public static void write(List<ScenarioResult> results, Path file) throws IOException {
        Files.writeString(file, render(results));
    }

    /**
     * Writes every chart of the report as a PNG into {@code dir} ({@code SCENARIO-OP-latency.png},
     * {@code SCENARIO-OP-throughput.png}, {@code SCENARIO-waits.png}, and under the virtual clock
     * {@code SCENARIO-scaling.png}); returns how many.
     */
    public static int writeCharts(List<ScenarioResult> results, Path dir) throws IOException {
        Files.createDirectories(dir);
        int n = 0;
        for (ScenarioResult r : results) {
            Set<String> ops = new LinkedHashSet<>();
            r.runs().forEach(run -> ops.addAll(run.ops().keySet()));
            for (String op : ops) {
                String base = r.scenario() + "-" + op.replace('/', '-');
                Files.write(dir.resolve(base + "-latency.png"), Charts.latencyCurve(r, op, 800, 420));
                Files.write(dir.resolve(base + "-throughput.png"), Charts.throughputBars(r, op, 640, 420));
                n += 2;
            }
            Files.write(dir.resolve(r.scenario() + "-waits.png"), Charts.waitBars(r, 900, waitsHeight(r)));
            n++;
            if (CoreSweep.of(r).virtual()) {
                Files.write(dir.resolve(r.scenario() + "-scaling.png"), Charts.scaling(r, 1000, 560));
                n++;
            }
        }
        return n;
    }

    public static String render(List<ScenarioResult> results) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>mmlab report</title>\n<style>\n")
                .append("body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:24px auto;max-width:1320px;color:#222}\n")
                .append("h1{margin-bottom:4px} h2{border-bottom:2px solid #ccc;padding-bottom:4px;margin-top:40px}\n")
                .append("table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}\n")
                .append("th,td{border:1px solid #ddd;padding:3px 8px;text-align:right} th{background:#f0f0f0}\n")
                .append("td.l,th.l{text-align:left} .muted{color:#666;font-size:13px} .bad{color:#b00;font-weight:bold}\n")
                .append(".row{display:flex;flex-wrap:wrap;gap:8px} .row img{border:1px solid #eee}\n")
                .append(".swatch{display:inline-block;width:10px;height:10px;margin-right:6px}\n")
                .append(results.stream().anyMatch(ScenarioResult::virtual) ? VIRTUAL_STYLE : "")
                .append("</style></head><body>\n<h1>mmlab: who blocked whom</h1>\n");
        if (!results.isEmpty()) {
            ScenarioResult.Machine m = results.get(0).machine();
            sb.append("<p class=\"muted\">").append(m.cores()).append(" cores, ").append(esc(m.jvm())).append(", ")
                    .append(Instant.now()).append(". Scenarios: ");
            for (ScenarioResult r : results) {
                sb.append("<a href=\"#").append(esc(r.scenario())).append("\">").append(esc(r.scenario())).append("</a> ");
            }
            sb.append("</p>\n");
        }
        for (ScenarioResult r : results) {
            scenario(sb, r);
        }
        return sb.append("</body></html>\n").toString();
    }

    private static void scenario(StringBuilder sb, ScenarioResult result) {
        sb.append("<h2 id=\"").append(esc(result.scenario())).append("\">").append(esc(result.scenario())).append("</h2>\n");
        sb.append("<p>").append(esc(result.origin())).append("</p>\n<p class=\"muted\">parameters: ");
        result.params().forEach((k, v) -> sb.append(esc(k)).append('=').append(esc(v)).append(' '));
        sb.append("</p>\n");
        CoreSweep sweep = CoreSweep.of(result);
        if (sweep.virtual()) {
            virtualSections(sb, sweep);
            return;
        }
        table(sb, sweep);
        perOpCharts(sb, sweep, "<h3>Latency and throughput per operation</h3>\n");
        sb.append("<h3>Who blocked whom</h3>\n<div class=\"row\">");
        image(sb, () -> Charts.waitBars(result, 900, waitsHeight(result)), "lock waits");
        sb.append("</div>\n");
        for (RunResult r : result.runs()) {
            causes(sb, r, sweep.colour(r));
        }
        lockUse(sb, result.runs(), LOCK_USE_HEADING);
        counters(sb, result.runs(), "<h3>Counters (engine and strategy, measured window)</h3>\n");
    }

    /** A virtual-clock scenario: scaling first, then the largest core count's charts, then waits per core count. */
    private static void virtualSections(StringBuilder sb, CoreSweep sweep) {
        ScenarioResult result = sweep.result();
        sb.append("<p class=\"muted\">virtual time: the strategies ran on ");
        for (int i = 0; i < sweep.cores().size(); i++) {
            sb.append(i == 0 ? "" : i == sweep.cores().size() - 1 ? " and " : ", ").append(sweep.cores().get(i));
        }
        sb.append(" simulated cores, priced by the cost profile ").append(esc(result.profile() == null ? "?"
                : result.profile().name() + " (" + result.profile().hash() + ")"))
                .append("; every rate, latency and wait below is in virtual time, not measured on this machine</p>\n");
        sb.append("<h3>Scaling: operations per virtual second against simulated cores</h3>\n<div class=\"row\">");
        image(sb, () -> Charts.scaling(result, 1000, 560), "scaling");
        sb.append("</div>\n");
        scalingTable(sb, sweep);
        boolean bad = result.runs().stream().anyMatch(r -> r.invariantViolations() > 0 || r.error() != null);
        sb.append(bad ? "<details open>" : "<details>").append("<summary>every run: counts, virtual latency percentiles, ")
                .append("waits and invariants (").append(result.runs().size()).append(" runs)</summary>\n");
        table(sb, sweep);
        sb.append("</details>\n");
        perOpCharts(sb, sweep, "<h3>" + esc(sweep.atLargest("Latency and throughput per operation")) + "</h3>\n");
        sb.append("<h3>Who blocked whom, per core count</h3>\n");
        waitsTable(sb, sweep);
        sb.append("<div class=\"row\">");
        image(sb, () -> Charts.waitBars(result, 900, waitsHeight(result)), "lock waits");
        sb.append("</div>\n");
        for (int n : sweep.cores()) {
            sb.append("<details id=\"").append(esc(result.scenario())).append("-waits-").append(n).append("\"><summary><b>")
                    .append(CoreSweep.cores(n)).append("</b>: each strategy's waits and top causes</summary>\n");
            for (RunResult r : sweep.runsAt(n)) {
                causes(sb, r, sweep.colour(r));
            }
            sb.append("</details>\n");
        }
        if (result.runs().stream().anyMatch(r -> r.lockUse() != null && !r.lockUse().isEmpty())) {
            sb.append(LOCK_USE_HEADING);
            for (int n : sweep.cores()) {
                sb.append(n == sweep.largest() ? "<details open>" : "<details>").append("<summary><b>")
                        .append(CoreSweep.cores(n)).append("</b></summary>\n");
                lockUse(sb, sweep.runsAt(n), "");
                sb.append("</details>\n");
            }
        }
        Set<String> keys = new TreeSet<>();
        result.runs().forEach(r -> keys.addAll(r.counters().keySet()));
        if (keys.isEmpty()) {
            return;
        }
        sb.append("<h3>Counters (engine and strategy, measured window), per core count</h3>\n");
        for (int n : sweep.cores()) {
            sb.append(n == sweep.largest() ? "<details open>" : "<details>").append("<summary><b>")
                    .append(CoreSweep.cores(n)).append("</b></summary>\n");
            counters(sb, sweep.runsAt(n), "");
            sb.append("</details>\n");
        }
    }

    private static void perOpCharts(StringBuilder sb, CoreSweep sweep, String heading) {
        ScenarioResult result = sweep.result();
        sb.append(heading);
        for (String op : sweep.ops()) {
            sb.append("<div class=\"row\">");
            image(sb, () -> Charts.latencyCurve(result, op, 640, 340), op + " latency");
            image(sb, () -> Charts.throughputBars(result, op, 640, 340), op + " throughput");
            sb.append("</div>\n");
        }
    }

    /** Rates per strategy and operation (rows) and core count (columns), and the gain from fewest to most cores. */
    private static void scalingTable(StringBuilder sb, CoreSweep sweep) {
        List<Integer> cores = sweep.cores();
        sb.append("<table><tr><th class=\"l\">strategy</th><th class=\"l\">operation</th>");
        cores.forEach(n -> sb.append("<th>").append(CoreSweep.cores(n)).append("</th>"));
        if (cores.size() > 1) {
            sb.append("<th>").append(sweep.largest()).append(" vs ").append(cores.get(0)).append("</th>");
        }
        sb.append("</tr>\n");
        for (String strategy : sweep.strategies()) {
            for (int o = 0; o < sweep.ops().size(); o++) {
                String op = sweep.ops().get(o);
                sb.append("<tr>");
                if (o == 0) {
                    sb.append("<td class=\"l\" rowspan=\"").append(sweep.ops().size()).append("\">")
                            .append(swatch(sweep.colour(strategy))).append(esc(strategy)).append("</td>");
                }
                sb.append("<td class=\"l\">").append(esc(op)).append("</td>");
                for (int n : cores) {
                    RunResult r = sweep.run(strategy, n);
                    OpStats s = r == null ? null : r.ops().get(op);
                    boolean bad = r != null && (r.invariantViolations() > 0 || r.error() != null);
                    sb.append(bad ? "<td class=\"bad\">" : "<td>").append(s == null ? "-" : Format.rate(s.perSecond()))
                            .append("</td>");
                }
                if (cores.size() > 1) {
                    sb.append("<td>").append(gain(sweep, strategy, op)).append("</td>");
                }
                sb.append("</tr>\n");
            }
        }
        sb.append("</table>\n<p class=\"muted\">operations per virtual second; red: the run found invariant ")
                .append("violations or failed (see every run below)</p>\n");
    }

    /** {@code strategy}'s rate of {@code op} at the most cores over its rate at the fewest, as {@code 12.3x}. */
    private static String gain(CoreSweep sweep, String strategy, String op) {
        RunResult few = sweep.run(strategy, sweep.cores().get(0));
        RunResult many = sweep.run(strategy, sweep.largest());
        OpStats a = few == null ? null : few.ops().get(op);
        OpStats b = many == null ? null : many.ops().get(op);
        if (a == null || b == null || a.perSecond() <= 0) {
            return "-";
        }
        return String.format(Locale.ROOT, "%.1fx", b.perSecond() / a.perSecond());
    }

    /** Who blocked whom at a glance: per strategy (rows) and core count (columns), the waits and their total. */
    private static void waitsTable(StringBuilder sb, CoreSweep sweep) {
        sb.append("<table><tr><th class=\"l\">strategy</th>");
        sweep.cores().forEach(n -> sb.append("<th><a href=\"#").append(esc(sweep.result().scenario())).append("-waits-")
                .append(n).append("\">").append(CoreSweep.cores(n)).append("</a></th>"));
        sb.append("</tr>\n");
        for (String strategy : sweep.strategies()) {
            sb.append("<tr><td class=\"l\">").append(swatch(sweep.colour(strategy))).append(esc(strategy)).append("</td>");
            for (int n : sweep.cores()) {
                RunResult r = sweep.run(strategy, n);
                sb.append("<td>");
                if (r == null) {
                    sb.append("-");
                } else {
                    WaitStats w = r.waits();
                    sb.append(String.format(Locale.ROOT, "%,d", w.count())).append(" / ").append(Format.nanos(w.waitNs()));
                    if (w.falseConflicts() > 0 && w.falseConflicts() == w.count()) {
                        sb.append("<br><span class=\"muted\">all false</span>");
                    } else if (w.falseConflicts() > 0) {
                        sb.append("<br><span class=\"muted\">false ").append(String.format(Locale.ROOT, "%,d", w.falseConflicts()))
                                .append(" / ").append(Format.nanos(w.falseConflictWaitNs())).append("</span>");
                    }
                }
                sb.append("</td>");
            }
            sb.append("</tr>\n");
        }
        sb.append("</table>\n<p class=\"muted\">waits / total virtual wait of all threads, and of those the false ")
                .append("conflicts (operations on different memory); open a core count below for who blocked whom</p>\n");
    }

    /** The waits chart's height: a bar per strategy shown. */
    private static int waitsHeight(ScenarioResult result) {
        return 80 + 45 * CoreSweep.of(result).shown().size();
    }

    private static void table(StringBuilder sb, CoreSweep sweep) {
        ScenarioResult result = sweep.result();
        boolean ref = result.reference() != null;
        sb.append("<table><tr><th class=\"l\">strategy</th><th class=\"l\">operation</th><th>count</th><th>ops/s</th>")
                .append("<th>p50</th><th>p99</th><th>p99.9</th><th>max</th>")
                .append(ref ? "<th>vs unsafe-nolock</th>" : "").append("<th>waits (false)</th><th>invariants</th></tr>\n");
        for (RunResult r : result.runs()) {
            boolean first = true;
            for (Map.Entry<String, OpStats> e : r.ops().entrySet()) {
                OpStats s = e.getValue();
                sb.append("<tr>");
                if (first) {
                    sb.append("<td class=\"l\" rowspan=\"").append(r.ops().size()).append("\">").append(swatch(sweep.colour(r)))
                            .append(esc(r.cores() == null ? r.strategy() : r.strategy() + " @" + r.cores())).append("</td>");
                }
                sb.append("<td class=\"l\">").append(esc(e.getKey())).append("</td><td>").append(s.count())
                        .append("</td><td>").append(Format.rate(s.perSecond())).append("</td><td>")
                        .append(Format.nanos(s.p50Ns())).append("</td><td>").append(Format.nanos(s.p99Ns()))
                        .append("</td><td>").append(Format.nanos(s.p999Ns())).append("</td><td>")
                        .append(Format.nanos(s.maxNs())).append("</td>");
                if (ref) {
                    sb.append("<td>").append(Format.fraction(Comparisons.vsReference(result, r, e.getKey()))).append("</td>");
                }
                if (first) {
                    sb.append("<td rowspan=\"").append(r.ops().size()).append("\">").append(r.waits().count()).append(" (")
                            .append(r.waits().falseConflicts()).append(")</td><td rowspan=\"").append(r.ops().size())
                            .append("\"").append(r.invariantViolations() > 0 ? " class=\"bad\">" : ">")
                            .append(r.invariantViolations() == 0 ? "ok" : r.invariantViolations() + " violated")
                            .append(r.error() != null ? "<br>" + esc(r.error()) : "").append("</td>");
                }
                first = false;
                sb.append("</tr>\n");
            }
        }
        sb.append("</table>\n");
    }

    private static void causes(StringBuilder sb, RunResult r, Paint colour) {
        WaitStats w = r.waits();
        sb.append("<p>").append(swatch(colour)).append("<b>")
                .append(esc(r.strategy())).append("</b>: ").append(w.count()).append(" waits, ").append(w.falseConflicts())
                .append(" false conflicts; waited ").append(Format.nanos(w.waitNs())).append(" in all, ")
                .append(Format.nanos(w.falseConflictWaitNs())).append(" of it on false conflicts</p>\n");
        if (w.byCause().isEmpty()) {
            return;
        }
        sb.append("<table><tr><th class=\"l\">waiter</th><th class=\"l\">blocked by</th><th class=\"l\">conflict</th>")
                .append("<th>waits</th><th>total wait</th><th>mean</th></tr>\n");
        w.byCause().stream().limit(TOP_CAUSES).forEach(c -> sb.append("<tr><td class=\"l\">").append(esc(c.waiter()))
                .append("</td><td class=\"l\">").append(esc(c.holder())).append("</td><td class=\"l\">")
                .append(c.falseConflict() ? "<span class=\"bad\">false</span>" : "true").append("</td><td>")
                .append(c.count()).append("</td><td>").append(Format.nanos(c.waitNs())).append("</td><td>")
                .append(Format.nanos(c.waitNs() / Math.max(1, c.count()))).append("</td></tr>\n"));
        if (w.byCause().size() > TOP_CAUSES) {
            sb.append("<tr><td class=\"l\" colspan=\"6\">").append(w.byCause().size() - TOP_CAUSES)
                    .append(" smaller causes in the JSON</td></tr>\n");
        }
        sb.append("</table>\n");
    }

    private static final String LOCK_USE_HEADING = "<h3>Lock use: operations by their hold of the mm-wide lock "
            + "(read, write, none), fallbacks to it and further tries</h3>\n";

    /** Lock use: a row per run and operation kind, a column per use, after {@code heading} when any run has one. */
    private static void lockUse(StringBuilder sb, List<RunResult> runs, String heading) {
        if (runs.stream().allMatch(r -> r.lockUse() == null || r.lockUse().isEmpty())) {
            return;
        }
        sb.append(heading).append("<table><tr><th class=\"l\">strategy</th><th class=\"l\">op</th>");
        LockUseTable.USES.forEach(u -> sb.append("<th>").append(u).append("</th>"));
        sb.append("</tr>\n");
        for (RunResult r : runs) {
            if (r.lockUse() == null) {
                continue;
            }
            r.lockUse().forEach((op, row) -> {
                sb.append("<tr><td class=\"l\">").append(esc(r.strategy())).append("</td><td class=\"l\">")
                        .append(esc(op)).append("</td>");
                for (String u : LockUseTable.USES) {
                    sb.append("<td>").append(String.format(Locale.ROOT, "%,d", row.getOrDefault(u, 0L))).append("</td>");
                }
                sb.append("</tr>\n");
            });
        }
        sb.append("</table>\n");
    }

    /** Counters (rows) per run (columns), after {@code heading} when any run has one. */
    private static void counters(StringBuilder sb, List<RunResult> runs, String heading) {
        Set<String> keys = new TreeSet<>();
        runs.forEach(r -> keys.addAll(r.counters().keySet()));
        if (keys.isEmpty()) {
            return;
        }
        sb.append(heading).append("<table><tr><th class=\"l\">counter</th>");
        runs.forEach(r -> sb.append("<th>").append(esc(r.strategy())).append("</th>"));
        sb.append("</tr>\n");
        for (String k : keys) {
            sb.append("<tr><td class=\"l\">").append(esc(k)).append("</td>");
            for (RunResult r : runs) {
                Long v = r.counters().get(k);
                sb.append("<td>").append(v == null ? "" : String.format(Locale.ROOT, "%,d", v)).append("</td>");
            }
            sb.append("</tr>\n");
        }
        sb.append("</table>\n");
    }

    /** Draws a chart. */
    @FunctionalInterface
    private interface ChartMaker {
        byte[] draw() throws IOException;
    }

    private static void image(StringBuilder sb, ChartMaker maker, String alt) {
        try {
            byte[] png = maker.draw();
            sb.append("<img alt=\"").append(esc(alt)).append("\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(png)).append("\">");
        } catch (IOException | RuntimeException | Error e) {
            // A bare machine without fonts cannot draw text; the tables still carry every figure.
            LOG.warn("chart '{}' could not be drawn: {}", alt, e.toString());
            sb.append("<p class=\"muted\">(chart '").append(esc(alt)).append("' unavailable: ").append(esc(e.toString())).append(")</p>");
        }
    }

    private static String swatch(Paint colour) {
        return "<span class=\"swatch\" style=\"background:" + hex(colour) + "\"></span>";
    }

    private static String hex(Paint paint) {
        java.awt.Color c = (java.awt.Color) paint;
        return String.format(Locale.ROOT, "#%02x%02x%02x", c.getRed(), c.getGreen(), c.getBlue());
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
