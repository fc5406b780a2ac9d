package dev.mmlab.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Strategies;
import dev.mmlab.bench.UsageException;
import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.Runner;
import dev.mmlab.bench.run.StrategyChoice;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class YamlScenarioTest {
    static String example() throws IOException {
        try (InputStream in = YamlScenarioTest.class.getResourceAsStream(Scenarios.EXAMPLE_RESOURCE)) {
            assertThat(in).as("example scenario in the jar").isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void theExampleParsesWithRoleAndDeviceParameters() throws IOException {
        YamlScenario s = YamlScenario.parse("example.yaml", example());
        assertThat(s.name()).isEqualTo("example-db");
        assertThat(s.params()).extracting(ParamDef::key)
                .containsExactly("disk.latency", "index-reader", "workers", "allocator", "driver");
        ScenarioParams p = ScenarioParams.of(s.name(), s.params(), Map.of());
        assertThat(p.integer("workers")).isEqualTo(2);
        assertThat(s.disjoint(p)).isFalse();
    }

    @Test
    void theExampleRunsLikeABuiltinScenario(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("example.yaml");
        Files.writeString(file, example());
        Scenario s = Scenarios.find(file.toString());
        ScenarioParams p = ScenarioParams.of(s.name(), s.params(), Map.of("disk.latency", "200us"));
        StrategyChoice rwsem = StrategyChoice.resolve(List.of("rwsem"), Strategies.discover()).get(0);
        RunResult r = assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> new Runner().run(s, p, rwsem, new Runner.Options(0.4, 0.1, 1, 20, true), f -> { }));
        assertThat(r.ops()).containsKeys("index-reader/fault", "workers/fault", "workers/read", "allocator/iteration");
        assertThat(r.ops().get("workers/fault").count()).isPositive();
        assertThat(r.invariantViolations()).as(String.valueOf(r.violations())).isZero();
    }

    @Test
    void mistakesAreReportedWithWhereAndHow() {
        assertThatThrownBy(() -> YamlScenario.parse("a.yaml", "name: x\nroles: []\n"))
                .isInstanceOf(UsageException.class).hasMessageContaining("a.yaml: 'roles' must be a non-empty list");
        assertThatThrownBy(() -> YamlScenario.parse("b.yaml", "roles:\n  - {name: r, op: fault}\n"))
                .isInstanceOf(UsageException.class).hasMessageContaining("b.yaml: missing 'name'");
        assertThatThrownBy(() -> YamlScenario.parse("c.yaml", "name: x\nroles:\n  - {name: r, op: jump}\n"))
                .isInstanceOf(UsageException.class).hasMessageContaining("unknown op 'jump'");
        assertThatThrownBy(() -> YamlScenario.parse("d.yaml", "name: x\nroles:\n  - {name: r, op: cold-read, file: f}\n"))
                .isInstanceOf(UsageException.class).hasMessageContaining("needs 'file' naming one of");
        assertThatThrownBy(() -> YamlScenario.parse("e.yaml", "name: [x\n"))
                .isInstanceOf(UsageException.class).hasMessageContaining("e.yaml: not valid YAML");
        assertThatThrownBy(() -> YamlScenario.parse("f.yaml", "name: x\nroles:\n  - {name: r, op: fault, region: big}\n"))
                .isInstanceOf(UsageException.class).hasMessageContaining("bad region 'big'");
        assertThatThrownBy(() -> YamlScenario.parse("g.yaml",
                "name: x\nfiles:\n  f: {device: nodev}\nroles:\n  - {name: r, op: fault}\n"))
                .isInstanceOf(UsageException.class).hasMessageContaining("names device 'nodev'");
    }
}
