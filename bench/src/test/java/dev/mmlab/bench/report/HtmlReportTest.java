package dev.mmlab.bench.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.ScenarioResult;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTML report and its charts for a virtual-clock sweep over core counts, and for the wall clock. */
class HtmlReportTest {
    private static final String SCALING_IMAGE = "<img alt=\"scaling\" src=\"data:image/png;base64,";

    @Test
    void aVirtualSweepShowsTheScalingChartAndWhoBlockedWhomPerCoreCount() {
        ScenarioResult result = ReportFixtures.virtual();
        String page = HtmlReport.render(List.of(result));

        assertThat(page).contains(SCALING_IMAGE, "Who blocked whom, per core count");
        // Every chart draws, the per-operation ones too, although each strategy ran once per core count.
        assertThat(page).doesNotContain("unavailable");
        assertThat(page).contains("faulters/fault latency", "Latency and throughput per operation at 64 cores, virtual time");
        for (int cores : ReportFixtures.CORES) {
            assertThat(page).as("waits section for %d cores", cores)
                    .contains("<details id=\"fault-vs-mmap-waits-" + cores + "\"><summary><b>" + CoreSweep.cores(cores) + "</b>")
                    .contains("href=\"#fault-vs-mmap-waits-" + cores + "\"");
            String section = section(page, "<details id=\"fault-vs-mmap-waits-" + cores + "\">", "</details>");
            for (String strategy : ReportFixtures.STRATEGIES) {
                RunResult run = run(result, strategy, cores);
                assertThat(section).contains("<b>" + strategy + "</b>: " + run.waits().count() + " waits, ")
                        .contains("waited " + Format.nanos(run.waits().waitNs()) + " in all");
            }
        }
        RunResult rwsem64 = run(result, "rwsem", 64);
        assertThat(section(page, "Who blocked whom, per core count", "<details"))
                .contains(String.format("%,d", rwsem64.waits().count()) + " / " + Format.nanos(rwsem64.waits().waitNs()));
        assertThat(page).contains("rwsem @16", "linux-x86 (0123abcd)");
    }

    @Test
    void writeChartsAddsTheScalingChartUnderTheVirtualClock(@TempDir Path dir) throws Exception {
        int written = HtmlReport.writeCharts(List.of(ReportFixtures.virtual()), dir);

        Path scaling = dir.resolve("fault-vs-mmap-scaling.png");
        assertThat(scaling).exists();
        BufferedImage image = ImageIO.read(scaling.toFile());
        assertThat(image.getWidth()).isEqualTo(1000);
        // Two charts per operation, the waits and the scaling chart.
        assertThat(written).isEqualTo(2 * 2 + 2);
        try (var files = Files.list(dir)) {
            assertThat(files).hasSize(written);
        }
    }

    @Test
    void aWallClockComparisonHasNoScalingChart(@TempDir Path dir) throws Exception {
        ScenarioResult wall = ReportFixtures.wall();
        String page = HtmlReport.render(List.of(wall));

        assertThat(page).contains("Who blocked whom", "<img alt=\"faulters/fault latency\"")
                .doesNotContain("alt=\"scaling\"", "virtual", "<details", "per core count");
        assertThat(HtmlReport.writeCharts(List.of(wall), dir)).isEqualTo(2 * 2 + 1);
        assertThat(dir.resolve("fault-vs-mmap-scaling.png")).doesNotExist();
        assertThatThrownBy(() -> Charts.scaling(wall, 800, 400)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("wall clock");
    }

    @Test
    void aStrategyKeepsItsColourAtEveryCoreCountAndWallRunsKeepTheirs() {
        CoreSweep virtual = CoreSweep.of(ReportFixtures.virtual());
        assertThat(virtual.strategies()).containsExactlyElementsOf(ReportFixtures.STRATEGIES);
        assertThat(virtual.cores()).containsExactlyElementsOf(ReportFixtures.CORES);
        assertThat(virtual.shown()).extracting(RunResult::cores).containsOnly(64);
        for (int cores : ReportFixtures.CORES) {
            for (int s = 0; s < ReportFixtures.STRATEGIES.size(); s++) {
                assertThat(virtual.colour(virtual.run(ReportFixtures.STRATEGIES.get(s), cores))).isEqualTo(Charts.colour(s));
            }
        }
        ScenarioResult wallResult = ReportFixtures.wall();
        CoreSweep wall = CoreSweep.of(wallResult);
        assertThat(wall.virtual()).isFalse();
        assertThat(wall.shown()).isEqualTo(wallResult.runs());
        for (int i = 0; i < wallResult.runs().size(); i++) {
            assertThat(wall.colour(wallResult.runs().get(i))).isEqualTo(Charts.colour(i));
        }
    }

    @Test
    void theCsvSaysEachVirtualRowsCoresAndTheWallCsvKeepsItsColumns() {
        List<String> virtual = CsvReport.render(List.of(ReportFixtures.virtual())).lines().toList();
        assertThat(virtual.get(0)).startsWith("scenario,strategy,cores,op,count,");
        assertThat(virtual).hasSize(1 + ReportFixtures.CORES.size() * ReportFixtures.STRATEGIES.size() * 2)
                .anyMatch(l -> l.startsWith("fault-vs-mmap,pervma,16,mapper/iteration,"));

        List<String> wall = CsvReport.render(List.of(ReportFixtures.wall())).lines().toList();
        assertThat(wall.get(0)).isEqualTo("scenario,strategy,op,count,perSecond,p50Ns,p99Ns,p999Ns,maxNs,waits,"
                + "falseConflicts,waitNs,falseConflictWaitNs,invariantViolations");
        assertThat(wall.get(1)).startsWith("fault-vs-mmap,rwsem,faulters/fault,");
    }

    private static RunResult run(ScenarioResult result, String strategy, int cores) {
        return result.runs().stream().filter(r -> r.strategy().equals(strategy) && r.cores() == cores).findFirst()
                .orElseThrow();
    }

    /** The text from {@code start} to the next {@code end} after it. */
    private static String section(String page, String start, String end) {
        int from = page.indexOf(start);
        assertThat(from).as(start).isNotNegative();
        int to = page.indexOf(end, from + start.length());
        return page.substring(from, to < 0 ? page.length() : to);
    }
}
