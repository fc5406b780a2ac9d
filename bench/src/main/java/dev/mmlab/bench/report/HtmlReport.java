package dev.mmlab.bench.report;

import dev.mmlab.bench.run.OpStats;
import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.ScenarioResult;
import dev.mmlab.bench.run.WaitStats;
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
 */
public final class HtmlReport {
    private static final Logger LOG = LoggerFactory.getLogger(HtmlReport.class);
    /** Causes shown per strategy in the who-blocked-whom table. */
    private static final int TOP_CAUSES = 8;

    private HtmlReport() {}

    public static void write(List<ScenarioResult> results, Path file) throws IOException {
        Files.writeString(file, render(results));
    }

    /**
     * Writes every chart of the report as a PNG into {@code dir} ({@code SCENARIO-OP-latency.png},
     * {@code SCENARIO-OP-throughput.png}, {@code SCENARIO-waits.png}); returns how many.
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
            Files.write(dir.resolve(r.scenario() + "-waits.png"), Charts.waitBars(r, 900, 80 + 45 * r.runs().size()));
            n++;
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
        table(sb, result);
        Set<String> ops = new LinkedHashSet<>();
        result.runs().forEach(r -> ops.addAll(r.ops().keySet()));
        sb.append("<h3>Latency and throughput per operation</h3>\n");
        for (String op : ops) {
            sb.append("<div class=\"row\">");
            image(sb, () -> Charts.latencyCurve(result, op, 640, 340), op + " latency");
            image(sb, () -> Charts.throughputBars(result, op, 640, 340), op + " throughput");
            sb.append("</div>\n");
        }
        sb.append("<h3>Who blocked whom</h3>\n<div class=\"row\">");
        image(sb, () -> Charts.waitBars(result, 900, 80 + 45 * result.runs().size()), "lock waits");
        sb.append("</div>\n");
        for (int i = 0; i < result.runs().size(); i++) {
            causes(sb, result.runs().get(i), i);
        }
        counters(sb, result);
    }

    private static void table(StringBuilder sb, ScenarioResult result) {
        boolean ref = result.reference() != null;
        sb.append("<table><tr><th class=\"l\">strategy</th><th class=\"l\">operation</th><th>count</th><th>ops/s</th>")
                .append("<th>p50</th><th>p99</th><th>p99.9</th><th>max</th>")
                .append(ref ? "<th>vs unsafe-nolock</th>" : "").append("<th>waits (false)</th><th>invariants</th></tr>\n");
        for (int i = 0; i < result.runs().size(); i++) {
            RunResult r = result.runs().get(i);
            boolean first = true;
            for (Map.Entry<String, OpStats> e : r.ops().entrySet()) {
                OpStats s = e.getValue();
                sb.append("<tr>");
                if (first) {
                    sb.append("<td class=\"l\" rowspan=\"").append(r.ops().size()).append("\"><span class=\"swatch\" style=\"background:")
                            .append(hex(Charts.colour(i))).append("\"></span>").append(esc(r.strategy())).append("</td>");
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

    private static void causes(StringBuilder sb, RunResult r, int index) {
        WaitStats w = r.waits();
        sb.append("<p><span class=\"swatch\" style=\"background:").append(hex(Charts.colour(index))).append("\"></span><b>")
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

    private static void counters(StringBuilder sb, ScenarioResult result) {
        Set<String> keys = new TreeSet<>();
        result.runs().forEach(r -> keys.addAll(r.counters().keySet()));
        if (keys.isEmpty()) {
            return;
        }
        sb.append("<h3>Counters (engine and strategy, measured window)</h3>\n<table><tr><th class=\"l\">counter</th>");
        result.runs().forEach(r -> sb.append("<th>").append(esc(r.strategy())).append("</th>"));
        sb.append("</tr>\n");
        for (String k : keys) {
            sb.append("<tr><td class=\"l\">").append(esc(k)).append("</td>");
            for (RunResult r : result.runs()) {
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

    private static String hex(java.awt.Paint paint) {
        java.awt.Color c = (java.awt.Color) paint;
        return String.format(Locale.ROOT, "#%02x%02x%02x", c.getRed(), c.getGreen(), c.getBlue());
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
