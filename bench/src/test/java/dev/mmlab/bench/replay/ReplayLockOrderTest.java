package dev.mmlab.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Strategies;
import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.bench.replay.ReplayScript.Step;
import dev.mmlab.bench.replay.ReplayScript.SyscallStep;
import dev.mmlab.bench.trace.Trace;
import dev.mmlab.bench.trace.TraceFiles;
import dev.mmlab.bench.trace.TraceParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Serial replay in the kernel's mmap_lock order. {@code synthetic-lock-order.perf.txt}: thread 50002's munmap of a
 * page enters first, but thread 50001's mmap(MAP_FIXED_NOREPLACE) of the same page gets the lock first and fails
 * with EEXIST. {@code threads4-lockorder.perf.txt.gz}: the 4-thread malloc/mmap/mprotect/madvise/munmap program of
 * issue 17, recorded on Linux 6.18.
 */
class ReplayLockOrderTest {
  private static final String SYNTHETIC = "synthetic-lock-order.perf.txt";
  private static final String RECORDED = "threads4-lockorder.perf.txt.gz";

  static Stream<String> strategies() {
    return Strategies.discover().names().stream();
  }

  private static List<String> lines(String resource) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(
        resource.endsWith(".gz") ? new GZIPInputStream(Files.newInputStream(TraceFiles.resource(resource)))
            : Files.newInputStream(TraceFiles.resource(resource)), StandardCharsets.UTF_8))) {
      return r.lines().collect(Collectors.toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The trace as recorded, or as a machine without the mmap_lock tracepoints would have recorded it. */
  private static Trace trace(String resource, boolean withLockEvents) {
    List<String> lines = lines(resource).stream()
        .filter(l -> withLockEvents || !l.contains(" mmap_lock:"))
        .collect(Collectors.toList());
    try {
      return TraceParser.parse(new StringReader(String.join("\n", lines) + "\n"), resource, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ReplayResult serial(Trace trace, String strategy) {
    return assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Replayer.replay(trace,
        Strategies.discover().select(strategy), new ReplayOptions(trace.defaultPid(), ReplayTiming.SERIAL, 10)));
  }

  @Test
  void grantOrdersTheSyscallsNotTheEnter() {
    ReplayScript lockOrder = ReplayScript.of(trace(SYNTHETIC, true), 50001);
    ReplayScript fileOrder = ReplayScript.of(trace(SYNTHETIC, false), 50001);

    // Without the mmap_lock lines the same steps sit on other lines: munmap on 8, the failing mmap on 9.
    assertThat(lineNos(fileOrder.images().get(0).steps())).containsExactly(3, 4, 8, 9);
    assertThat(lineNos(lockOrder.images().get(0).steps())).containsExactly(3, 4, 13, 11);
    assertThat(lockOrder.images().get(0).steps()).filteredOn(SyscallStep.class::isInstance)
        .extracting(s -> ((SyscallStep) s).grantLineNo()).containsExactly(6, 15, 18);
  }

  @ParameterizedTest
  @MethodSource("strategies")
  void onlyLockOrderGivesTheKernelsResult(String strategy) {
    ReplayResult fileOrder = serial(trace(SYNTHETIC, false), strategy);
    ReplayResult lockOrder = serial(trace(SYNTHETIC, true), strategy);

    assertThat(fileOrder.fidelity().syscallDifferences()).isEqualTo(1);
    assertThat(fileOrder.fidelity().firstDifferences().get(0).expected()).contains("EEXIST");
    assertThat(lockOrder.fidelity().differences()).isZero();
  }

  @ParameterizedTest
  @MethodSource("strategies")
  void recordedThreadedProgramDiffersLessInLockOrder(String strategy) {
    ReplayResult fileOrder = serial(trace(RECORDED, false), strategy);
    ReplayResult lockOrder = serial(trace(RECORDED, true), strategy);

    assertThat(fileOrder.fidelity().syscalls()).isEqualTo(3227);
    assertThat(fileOrder.fidelity().syscallDifferences()).isPositive();
    assertThat(lockOrder.fidelity().syscallDifferences()).isLessThan(fileOrder.fidelity().syscallDifferences());
    assertThat(lockOrder.fidelity().differences()).isLessThan(fileOrder.fidelity().differences());
  }

  /**
   * Under the virtual clock (deterministic) a threaded replay keeps the kernel's grant order between the threads'
   * syscalls: the synthetic race replays as the kernel ran it, and the recorded program differs less than without
   * the grants.
   */
  @ParameterizedTest
  @MethodSource("strategies")
  void threadedReplayWaitsForThePreviousGrant(String strategy) {
    for (ReplayTiming timing : List.of(ReplayTiming.ASAP, ReplayTiming.ORIGINAL)) {
      assertThat(virtual(trace(SYNTHETIC, true), strategy, timing).fidelity().differences()).as("%s", timing).isZero();
      ReplayResult fileOrder = virtual(trace(RECORDED, false), strategy, timing);
      ReplayResult lockOrder = virtual(trace(RECORDED, true), strategy, timing);
      assertThat(lockOrder.fidelity().syscallDifferences()).as("%s", timing)
          .isLessThan(fileOrder.fidelity().syscallDifferences());
    }
  }

  private static ReplayResult virtual(Trace trace, String strategy, ReplayTiming timing) {
    return assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Replayer.replay(trace,
        Strategies.discover().select(strategy), new ReplayOptions(trace.defaultPid(), timing, 1)
            .withVirtualClock(CostProfile.named(CostProfile.DEFAULT), 42)));
  }

  private static List<Integer> lineNos(List<Step> steps) {
    return steps.stream().map(s -> s.event().lineNo()).collect(Collectors.toList());
  }
}
