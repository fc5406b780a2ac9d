package dev.mmlab.bench.report;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmlab.bench.run.ScenarioResult;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How operations were locked, in the JSON contract ({@code lockUse}), the text table and the HTML report. */
class LockUseReportTest {
    @Test
    void theJsonHasLockUsePerRunWithSortedOperationsAndEveryUse() throws Exception {
        ScenarioResult wall = ReportFixtures.wall();
        JsonNode root = new ObjectMapper().readTree(JsonReport.toJson(List.of(wall)));
        JsonNode rwsem = root.get("runs").get(0);
        assertThat(rwsem.get("strategy").asText()).isEqualTo("rwsem");
        assertThat(rwsem.fieldNames()).toIterable().containsSubsequence("counters", "lockUse", "invariantViolations");
        JsonNode lockUse = rwsem.get("lockUse");
        assertThat(lockUse.fieldNames()).toIterable().containsExactly("fault", "mmap");
        assertThat(lockUse.get("fault").fieldNames()).toIterable()
                .containsExactly("read", "write", "none", "fallback", "retry");
        long faults = wall.runs().get(0).ops().get("faulters/fault").count();
        assertThat(lockUse.get("fault").get("read").asLong()).isEqualTo(faults);
        // The same result gives the same text (the virtual clock's byte-identical JSON depends on it).
        assertThat(JsonReport.toJson(List.of(wall))).isEqualTo(JsonReport.toJson(List.of(ReportFixtures.wall())));
    }

    @Test
    void theTextTableEndsWithALockUseRowPerStrategyAndOperation() {
        ScenarioResult wall = ReportFixtures.wall();
        String text = TextTable.render(wall);
        String section = text.substring(text.indexOf("lock use:"));
        List<String> lines = section.lines().toList();
        assertThat(lines.get(1).split(" +")).containsExactly("strategy", "op", "read", "write", "none", "fallback",
                "retry");
        long faults = wall.runs().get(1).ops().get("faulters/fault").count();
        assertThat(lines).anySatisfy(l -> assertThat(l.split(" +"))
                .containsExactly("pervma", "fault", "1", "0", Long.toString(faults - 1), "1", "0"));
        assertThat(lines).hasSize(2 + 2 * ReportFixtures.STRATEGIES.size());
    }

    @Test
    void theHtmlHasALockUseTableAndOnePerCoreCountUnderTheVirtualClock() {
        assertThat(HtmlReport.render(List.of(ReportFixtures.wall()))).contains("Lock use:", "<th>fallback</th>");
        String page = HtmlReport.render(List.of(ReportFixtures.virtual()));
        assertThat(page.split("Lock use:", -1)).hasSize(2);
        assertThat(page).contains("<td class=\"l\">rwsem</td><td class=\"l\">fault</td>");
    }
}
