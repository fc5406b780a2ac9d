package dev.mmlab.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mmlab.api.sim.CostProfile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code compare --clock virtual}: the JSON contract, the scaling of the * role, determinism, bad input. */
class VirtualClockTest {
    private static Cli compare(Path json, String... extra) {
        List<String> args = new ArrayList<>(List.of("compare", "--clock", "virtual", "--scenario", "fault-vs-mmap",
                "--cores", "1,4", "--strategy", "rwsem", "--strategy", "pervma", "--duration", "0.001",
                "--json", json.toString()));
        args.addAll(List.of(extra));
        return assertTimeoutPreemptively(Duration.ofSeconds(120), () -> Cli.run(args.toArray(new String[0])));
    }

    @Test
    void theSameSeedGivesTheSameJsonAndEveryRunSaysItsCores(@TempDir Path dir) throws Exception {
        Cli first = compare(dir.resolve("a.json"));
        assertThat(first.rc()).as(first.err()).isZero();
        assertThat(first.out()).contains("virtual time", "rwsem @1", "pervma @4", "faulters/fault");
        Cli second = compare(dir.resolve("b.json"));
        assertThat(second.rc()).as(second.err()).isZero();

        ObjectMapper mapper = new ObjectMapper();
        JsonNode a = mapper.readTree(dir.resolve("a.json").toFile());
        JsonNode b = mapper.readTree(dir.resolve("b.json").toFile());
        assertThat(a.get("clock").asText()).isEqualTo("virtual");
        CostProfile profile = CostProfile.named(CostProfile.DEFAULT);
        assertThat(a.get("profile").get("name").asText()).isEqualTo(profile.name());
        assertThat(a.get("profile").get("hash").asText()).isEqualTo(profile.hash());
        List<String> runs = new ArrayList<>();
        for (JsonNode run : a.get("runs")) {
            runs.add(run.get("strategy").asText() + "@" + run.get("cores").asInt());
            assertThat(run.get("seconds").asDouble()).isEqualTo(0.001);
            assertThat(run.get("ops").get("faulters/fault").get("count").asLong()).isPositive();
            assertThat(run.get("invariantViolations").asInt()).isZero();
        }
        assertThat(runs).containsExactly("rwsem@1", "pervma@1", "rwsem@4", "pervma@4");
        // Four faulters on four cores fault more than one does on one.
        assertThat(faults(a, "pervma", 4)).isGreaterThan(3 * faults(a, "pervma", 1));

        ((ObjectNode) a).remove("machine");
        ((ObjectNode) b).remove("machine");
        assertThat(b).as("same seed and profile: same JSON").isEqualTo(a);
    }

    private static long faults(JsonNode doc, String strategy, int cores) {
        for (JsonNode run : doc.get("runs")) {
            if (run.get("strategy").asText().equals(strategy) && run.get("cores").asInt() == cores) {
                return run.get("ops").get("faulters/fault").get("count").asLong();
            }
        }
        throw new AssertionError("no run " + strategy + "@" + cores);
    }

    @Test
    void wallClockJsonSaysWallAndHasNoProfile(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("w.json");
        Cli r = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Cli.run("compare", "--scenario",
                "fault-vs-mmap", "--strategy", "rwsem", "--duration", "0.2", "--warmup", "0", "--jit-warmup", "0",
                "--json", json.toString()));
        assertThat(r.rc()).as(r.err()).isZero();
        JsonNode doc = new ObjectMapper().readTree(json.toFile());
        assertThat(doc.get("clock").asText()).isEqualTo("wall");
        assertThat(doc.has("profile")).isFalse();
        assertThat(doc.get("runs").get(0).has("cores")).isFalse();
    }

    @Test
    void badClockOptionsAreOneLineErrors() {
        for (String[] args : List.of(
                new String[] {"compare", "--clock", "sundial"},
                new String[] {"compare", "--scenario", "fault-vs-mmap", "--cores", "4"},
                new String[] {"compare", "--clock", "virtual", "--scenario", "fault-vs-mmap", "--cores", "0"},
                new String[] {"compare", "--clock", "virtual", "--scenario", "fault-vs-mmap", "--profile", "/nonexistent.profile"})) {
            Cli r = Cli.run(args);
            assertThat(r.rc()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
        }
    }
}
