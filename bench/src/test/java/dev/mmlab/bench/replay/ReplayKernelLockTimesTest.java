package dev.mmlab.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.Strategies;
import dev.mmlab.bench.replay.KernelLockTimes.Summary;
import dev.mmlab.bench.trace.Trace;
import dev.mmlab.bench.trace.TraceFiles;
import dev.mmlab.bench.trace.TraceParser;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The kernel's mmap_lock hold and wait times. {@code synthetic-kernel-lock-times.perf.txt} has times chosen by hand:
 * an mmap that waits 3 µs and holds the write lock 10 µs, a fault that waits 2 µs and holds the read lock 5 µs, a
 * madvise whose attempt fails after 7 µs (neither a wait nor a hold), and a munmap that waits 2 µs and downgrades 7 µs into a
 * 30 µs write hold (one hold, not a read one too).
 */
class ReplayKernelLockTimesTest {
  private static final long US = 1_000;

  private static Trace parse(String resource) throws IOException {
    return TraceParser.parse(TraceFiles.resource(resource), false);
  }

  @Test
  void syntheticHoldsAndWaitsHaveTheTracedTimes() throws IOException {
    Trace trace = parse("synthetic-kernel-lock-times.perf.txt");
    KernelLockTimes times = KernelLockTimes.of(ReplayScript.of(trace, trace.defaultPid()));

    assertThat(times.recorded()).isTrue();
    assertThat(times.write().hold()).isEqualTo(new Summary(2, 10 * US, 30 * US, 30 * US, 40 * US));
    assertThat(times.write().waiting()).isEqualTo(new Summary(2, 2 * US, 3 * US, 3 * US, 5 * US));
    assertThat(times.read().hold()).isEqualTo(new Summary(1, 5 * US, 5 * US, 5 * US, 5 * US));
    assertThat(times.read().waiting()).isEqualTo(new Summary(1, 2 * US, 2 * US, 2 * US, 2 * US));
  }

  @Test
  void reportAndJsonShowTheKernelTimesBesideTheModelsWaits() throws IOException {
    Trace trace = parse("synthetic-kernel-lock-times.perf.txt");
    ReplayScript script = ReplayScript.of(trace, trace.defaultPid());
    KernelLockTimes times = KernelLockTimes.of(script);
    ReplayResult rwsem = Replayer.replay(trace, Strategies.discover().select("rwsem"),
        new ReplayOptions(trace.defaultPid(), ReplayTiming.SERIAL, 1));

    assertThat(ReplayReport.kernelLockTimes(List.of(rwsem), times))
        .containsPattern("read\\s+1\\s+5\\s+5\\s+5\\s+1\\s+2\\s+2\\s+2\\s+0\\.002")
        .containsPattern("write\\s+2\\s+10\\s+30\\s+30\\s+2\\s+2\\s+3\\s+3\\s+0\\.005")
        .contains("comparable with the kernel's only under --timing original")
        .containsPattern("rwsem\\s+0 waits");
    @SuppressWarnings("unchecked")
    Map<String, Map<String, Map<String, Object>>> json = (Map<String, Map<String, Map<String, Object>>>)
        ReplayReport.json(List.of(rwsem), KernelLockUse.of(script), times).get("kernelLockTimes");
    assertThat(json.get("write").get("hold")).containsEntry("p50Ns", 10 * US).containsEntry("p99Ns", 30 * US)
        .containsEntry("maxNs", 30 * US).containsEntry("count", 2L);
    assertThat(json.get("read").get("wait")).containsEntry("count", 1L).containsEntry("maxNs", 2 * US);
  }

  @Test
  void traceWithoutLockEventsHasNoTimes() throws IOException {
    String text = Files.readAllLines(TraceFiles.resource("synthetic-kernel-lock-times.perf.txt")).stream()
        .filter(l -> !l.contains(" mmap_lock:"))
        .collect(Collectors.joining("\n", "", "\n"));
    Trace without = TraceParser.parse(new StringReader(text), "without-lock-events", false);
    KernelLockTimes times = KernelLockTimes.of(ReplayScript.of(without, without.defaultPid()));

    assertThat(times.recorded()).isFalse();
    assertThat(ReplayReport.kernelLockTimes(List.of(), times)).isEmpty();
    assertThat(ReplayReport.json(List.of(), KernelLockUse.of(ReplayScript.of(without, without.defaultPid())), times))
        .doesNotContainKey("kernelLockTimes");
  }

  @Test
  void recordedTraceTimesAreNonZeroAndPlausible() throws IOException {
    Trace trace = parse("threads4-lockorder.perf.txt.gz");
    ReplayScript script = ReplayScript.of(trace, trace.defaultPid());
    KernelLockTimes times = KernelLockTimes.of(script);
    Map<String, Map<String, Long>> acquisitions = KernelLockUse.of(script).counts();

    Summary writeHold = times.write().hold();
    // One hold per acquisition KernelLockUse counts, the exec's too: its grants and releases are all the exec's.
    assertThat(writeHold.count()).isEqualTo(total(acquisitions, "write"));
    assertThat(times.read().hold().count()).isEqualTo(total(acquisitions, "read"));
    assertThat(writeHold.maxNs()).isPositive().isLessThan(100_000 * US);
    assertThat(writeHold.p50Ns()).isLessThanOrEqualTo(writeHold.p99Ns()).isLessThanOrEqualTo(writeHold.maxNs());
    assertThat(times.write().waiting().count()).isPositive();
    assertThat(times.write().waiting().maxNs()).isPositive().isLessThan(100_000 * US);
    assertThat(times.write().waiting().totalNs()).isPositive();
  }

  private static long total(Map<String, Map<String, Long>> acquisitions, String hold) {
    return acquisitions.values().stream().mapToLong(row -> row.get(hold)).sum();
  }
}
