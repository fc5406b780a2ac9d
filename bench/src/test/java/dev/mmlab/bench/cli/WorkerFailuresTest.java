package dev.mmlab.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.bench.plugin.FaultThrowingRwsem;
import dev.mmlab.bench.plugin.PluginJars;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker that throws fails the command, in the JIT warm-up run as in a measured one, apart from violations. */
class WorkerFailuresTest {
    private static final String EXPECTED = "strategy " + FaultThrowingRwsem.NAME
            + ", role faulters, operation write: java.lang.IllegalStateException: fault handler broken on purpose";

    @Test
    void aFailureInTheJitWarmupFailsTheCommand(@TempDir Path dir) throws Exception {
        // The warm-up runs the first strategy; the measured run is another, which does not fail.
        Cli r = compare(dir, "--strategy", FaultThrowingRwsem.NAME, "--duration", "0.05", "--jit-warmup", "0.05",
                "--scenario", "fault-vs-mmap", "--strategy", "rwsem");
        assertThat(r.rc()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("mmlab compare: worker failed: " + EXPECTED);
    }

    @Test
    void aFailureInAMeasuredRunIsAWorkerFailureNotAViolation(@TempDir Path dir) throws Exception {
        Path json = dir.resolve("out.json");
        // One faulting thread and no mapper (which touches its pages too), so exactly one worker can fail.
        Cli r = compare(dir, "--strategy", FaultThrowingRwsem.NAME, "--duration", "0.05", "--jit-warmup", "0",
                "--scenario", "fault-vs-mmap", "--threads", "1", "--set", "mapper=0", "--json", json.toString());
        assertThat(r.rc()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("mmlab compare: worker failed: " + EXPECTED).doesNotContain("invariant violations");
        assertThat(r.out()).contains("WORKER FAILURES 1").doesNotContain("INVARIANT VIOLATIONS");

        JsonNode run = new ObjectMapper().readTree(json.toFile()).get("runs").get(0);
        assertThat(run.get("invariantViolations").asInt()).isZero();
        JsonNode failure = run.get("workerFailures").get(0);
        assertThat(failure.get("strategy").asText()).isEqualTo(FaultThrowingRwsem.NAME);
        assertThat(failure.get("role").asText()).isEqualTo("faulters");
        assertThat(failure.get("operation").asText()).isEqualTo("write");
        assertThat(failure.get("exception").asText()).contains("fault handler broken on purpose");
    }

    private static Cli compare(Path dir, String... args) throws Exception {
        Path jar = PluginJars.write(dir.resolve("broken.jar"), LockingStrategy.class.getName(),
                FaultThrowingRwsem.class.getName());
        String[] all = new String[args.length + 3];
        all[0] = "--plugins";
        all[1] = jar.toString();
        all[2] = "compare";
        System.arraycopy(args, 0, all, 3, args.length);
        return Cli.run(all);
    }
}
