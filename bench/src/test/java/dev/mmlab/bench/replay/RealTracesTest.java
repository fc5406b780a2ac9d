package dev.mmlab.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Strategies;
import dev.mmlab.bench.trace.TraceFiles;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The three real programs' traces replay under every discovered strategy in every timing mode with no
 * invariant violation, and serially with no fidelity difference.
 */
class RealTracesTest {
  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (String strategy : Strategies.discover().names()) {
      for (String trace : TraceFiles.SHARED) {
        for (ReplayTiming timing : ReplayTiming.values()) {
          out.add(Arguments.of(trace, strategy, timing));
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} under {1}, {2}")
  @MethodSource("cases")
  void replaysWithoutViolations(String trace, String strategy, ReplayTiming timing) {
    // original timing at 50x: the traces span about a second; keep the test short.
    ReplayOptions options = new ReplayOptions(ReplayOptions.DEFAULT_PID, timing, 50);
    ReplayResult result = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Replayer.replay(
        ReplayTraces.trace(trace), Strategies.discover().select(strategy), options));

    assertThat(result.invariantViolations()).isEmpty();
    assertThat(result.fidelity().eventsReplayed()).isEqualTo(
        ReplayScript.of(ReplayTraces.trace(trace), ReplayTraces.trace(trace).defaultPid()).stepCount());
    if (timing == ReplayTiming.SERIAL) {
      assertThat(result.fidelity().firstDifferences()).as("%s", result.fidelity()).isEmpty();
      assertThat(result.fidelity().differences()).isZero();
    }
  }
}
