package dev.mmlab.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmlab.api.Strategies;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code compare} end to end: a short run of one small scenario under every discovered strategy and the reference. */
class CompareSmokeTest {
    @Test
    void compareWritesTheJsonContractTheTableCsvAndHtml(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("r.json");
        Path html = dir.resolve("r.html");
        Path csv = dir.resolve("r.csv");
        Cli r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Cli.run("compare", "--scenario", "fault-vs-mmap",
                "--duration", "0.4", "--warmup", "0.1", "--jit-warmup", "0", "--strategy", "all", "--strategy", "unsafe-nolock",
                "--json", json.toString(), "--html", html.toString(), "--csv", csv.toString()));
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(r.out()).contains("faulters/fault", "mapper/iteration", "vs nolock", "wrote " + json, "lock use:");

        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("scenario").asText()).isEqualTo("fault-vs-mmap");
        assertThat(root.get("selfChecks").asBoolean(true)).as("a measurement runs without self-checks").isFalse();
        assertThat(root.get("machine").get("cores").asInt()).isPositive();
        assertThat(root.get("machine").get("jvm").asText()).isNotBlank();
        List<String> expected = new ArrayList<>(Strategies.discover().names());
        expected.add("unsafe-nolock");
        List<String> strategies = new ArrayList<>();
        for (JsonNode run : root.get("runs")) {
            strategies.add(run.get("strategy").asText());
            assertThat(run.get("seconds").asDouble()).isPositive();
            JsonNode fault = run.get("ops").get("faulters/fault");
            for (String f : List.of("count", "perSecond", "p50Ns", "p99Ns", "p999Ns", "maxNs")) {
                assertThat(fault.has(f)).as(f).isTrue();
            }
            assertThat(fault.get("count").asLong()).isPositive();
            assertThat(fault.get("p50Ns").asLong()).isLessThanOrEqualTo(fault.get("p99Ns").asLong());
            assertThat(run.get("ops").has("mapper/iteration")).isTrue();
            JsonNode waits = run.get("waits");
            for (String f : List.of("count", "falseConflicts", "waitNs", "falseConflictWaitNs")) {
                assertThat(waits.get(f).isIntegralNumber()).as(f).isTrue();
            }
            assertThat(waits.get("byCause").isArray()).isTrue();
            for (JsonNode c : waits.get("byCause")) {
                assertThat(c.fieldNames()).toIterable().containsExactly("waiter", "holder", "falseConflict", "count", "waitNs");
            }
            assertThat(run.get("counters").isObject()).isTrue();
            JsonNode faultLocks = run.get("lockUse").get("fault");
            assertThat(faultLocks.fieldNames()).toIterable().containsExactly("read", "write", "none", "fallback", "retry");
            long locked = faultLocks.get("read").asLong() + faultLocks.get("write").asLong() + faultLocks.get("none").asLong();
            assertThat(locked).as("every fault counts once").isPositive();
            if (run.get("strategy").asText().equals("rwsem")) {
                assertThat(faultLocks.get("none").asLong()).isZero();
                assertThat(run.get("lockUse").get("mmap").get("write").asLong()).isPositive();
            }
            assertThat(run.get("invariantViolations").asInt()).isZero();
        }
        assertThat(strategies).containsExactlyElementsOf(expected);

        String page = Files.readString(html);
        assertThat(page).startsWith("<!DOCTYPE html>").contains("fault-vs-mmap", "Who blocked whom", "faulters/fault",
                "Lock use");
        assertThat(page).containsAnyOf("data:image/png;base64,", "unavailable");
        assertThat(Files.readAllLines(csv)).hasSize(1 + 2 * expected.size());
    }
}
