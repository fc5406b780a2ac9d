package dev.mmlab.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mmlab.bench.trace.TraceFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class ReplayCommandTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cl = ReplayCommand.newCommandLine();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    return cl.execute(args);
  }

  @Test
  void replaysUnderEveryStrategyAndWritesJsonAndMaps() throws IOException {
    Path json = dir.resolve("r.json");
    Path maps = dir.resolve("maps.txt");
    int rc = run(TraceFiles.resource("vmaops-1.perf.txt.gz").toString(), "--strategy", "rwsem",
        "--json", json.toString(), "--maps-out", maps.toString());

    assertThat(rc).as(err.toString()).isZero();
    assertThat(out.toString()).contains("strategy", "syscalls/s", "rwsem");
    JsonNode doc = new ObjectMapper().readTree(json.toFile());
    JsonNode run = doc.get("results").get(0);
    assertThat(run.get("strategy").asText()).isEqualTo("rwsem");
    assertThat(run.get("fidelity").get("syscallDifferences").asLong()).isZero();
    assertThat(run.get("fidelity").get("eventsReplayed").asLong()).isPositive();
    assertThat(run.get("operations").get("mmap").get("count").asLong()).isPositive();
    assertThat(run.get("operations").get("fault").get("p99Micros").asDouble()).isPositive();
    assertThat(run.get("waits").has("falseConflicts")).isTrue();
    // rwsem takes the mmap lock for everything: its mmaps for write (the image's setup counts too), its faults for
    // read, nothing without it.
    JsonNode lockUse = run.get("lockUse");
    assertThat(lockUse.get("mmap").get("write").asLong())
        .isGreaterThanOrEqualTo(run.get("operations").get("mmap").get("count").asLong());
    assertThat(lockUse.get("mmap").get("none").asLong()).isZero();
    assertThat(lockUse.get("fault").get("read").asLong()).isPositive();
    assertThat(lockUse.get("fault").get("none").asLong()).isZero();
    assertThat(out.toString()).contains("lock use:");
    assertThat(run.get("invariantViolations").size()).isZero();
    MapsComparison.Expected expected =
        MapsComparison.readExpected(TraceFiles.resource("vmaops-1.maps"));
    assertThat(MapsComparison.firstDifference(expected.lines(), MapsComparison.window(
        Files.readString(maps), expected.windowStart(), expected.windowEnd()))).isNull();
  }

  @Test
  void allIsTheDefaultAndNamesEveryStrategy() {
    int rc = run(TraceFiles.resource("vmaops-2.perf.txt.gz").toString(), "--timing", "asap");

    assertThat(rc).as(err.toString()).isZero();
    for (String name : dev.mmlab.api.Strategies.discover().names()) {
      assertThat(out.toString()).contains(name);
    }
  }

  @Test
  void malformedTraceSaysFileAndLineAndExits2UnlessLenient() throws IOException {
    Path bad = dir.resolve("bad.perf.txt");
    String text;
    try (GZIPInputStream in = new GZIPInputStream(
        Files.newInputStream(TraceFiles.resource("vmaops-1.perf.txt.gz")))) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    String[] lines = text.split("\n", -1);
    int cut = 40;
    while (!lines[cut].contains("page_fault_user")) {
      cut++;
    }
    lines[cut] = lines[cut].substring(0, lines[cut].indexOf("error_code")); // a fault line cut short
    Files.writeString(bad, String.join("\n", lines));

    assertThat(run(bad.toString(), "--strategy", "rwsem")).isEqualTo(2);
    assertThat(err.toString().strip()).startsWith(bad + ":" + (cut + 1) + ": ").doesNotContain("\n");

    assertThat(run(bad.toString(), "--strategy", "rwsem", "--lenient")).isZero();
    assertThat(err.toString()).contains("1 malformed lines skipped");
  }

  @Test
  void badOptionsExit2WithOneLine() {
    String trace = TraceFiles.resource("vmaops-1.perf.txt.gz").toString();
    assertThat(run(trace, "--timing", "sometimes")).isEqualTo(2);
    assertThat(run(trace, "--strategy", "nosuch")).isEqualTo(2);
    assertThat(run(trace, "--speed", "0")).isEqualTo(2);
    assertThat(run(trace, "--pid", "424242")).isEqualTo(2);
    assertThat(run(trace, "--no-such-option")).isEqualTo(2);
    assertThat(run(dir.resolve("missing.txt").toString())).isEqualTo(2);
    assertThat(err.toString().strip().split("\n")).hasSize(6)
        .allSatisfy(l -> assertThat(l).startsWith("mmlab replay: "));
  }
}
