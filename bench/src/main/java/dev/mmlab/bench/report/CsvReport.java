package dev.mmlab.bench.report;

import dev.mmlab.bench.run.OpStats;
import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.ScenarioResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One CSV row per scenario, strategy and operation; under the virtual clock per core count too, in a
 * {@code cores} column after {@code strategy} that wall-clock-only files do not have.
 */
public final class CsvReport {
    private CsvReport() {}

    public static String render(List<ScenarioResult> results) {
        boolean cores = results.stream().anyMatch(ScenarioResult::virtual);
        StringBuilder sb = new StringBuilder("scenario,strategy," + (cores ? "cores," : "")
                + "op,count,perSecond,p50Ns,p99Ns,p999Ns,maxNs,waits,falseConflicts,waitNs,falseConflictWaitNs,invariantViolations\n");
        for (ScenarioResult result : results) {
            for (RunResult r : result.runs()) {
                String coresCell = !cores ? "" : r.cores() == null ? "," : r.cores() + ",";
                for (Map.Entry<String, OpStats> e : r.ops().entrySet()) {
                    OpStats s = e.getValue();
                    sb.append(String.format(Locale.ROOT, "%s,%s,%s%s,%d,%.3f,%d,%d,%d,%d,%d,%d,%d,%d,%d%n",
                            quote(result.scenario()), quote(r.strategy()), coresCell, quote(e.getKey()), s.count(), s.perSecond(),
                            s.p50Ns(), s.p99Ns(), s.p999Ns(), s.maxNs(), r.waits().count(), r.waits().falseConflicts(),
                            r.waits().waitNs(), r.waits().falseConflictWaitNs(), r.invariantViolations()));
                }
            }
        }
        return sb.toString();
    }

    public static void write(List<ScenarioResult> results, Path file) throws IOException {
        Files.writeString(file, render(results));
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
