package dev.mmlab.bench.jmh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** One tiny iteration of the benchmarks in-process, so the JMH harness (and its generated code) cannot rot. */
class JmhHarnessTest {
    @Test
    void oneTinyIterationOfEachBenchmarkClass() {
        assertEachRunsOnce(new OptionsBuilder()
                .include(FaultBenchmark.class.getName() + ".anonFault")
                .include(FaultBenchmark.class.getName() + ".mappedPageFault")
                .include(SyscallBenchmark.class.getName() + ".lockWriteRange")
                .param("strategy", "rwsem")
                .param("vmas", "10"), 3);
    }

    /** The variants the former measuring harnesses' figures come from: bytes per VMA, held ranges, two threads. */
    @Test
    void footprintAndTwoThreadsBesideHeldRangesRun() {
        assertEachRunsOnce(new OptionsBuilder()
                .include(VmaFootprintBenchmark.class.getName() + ".newAnonVma")
                .include(SyscallBenchmark.class.getName() + ".lockWriteRange")
                .param("strategy", "rangelock")
                .param("vmas", "10")
                .param("heldRanges", "4")
                .threads(2), 2);
    }

    /** Runs the benchmarks {@code opts} selects in this JVM, one 100 ms iteration each, and checks each scored. */
    private static void assertEachRunsOnce(ChainedOptionsBuilder opts, int benchmarks) {
        opts.forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .shouldFailOnError(true);
        Collection<RunResult> results = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> new Runner(opts.build()).run());
        assertThat(results).hasSize(benchmarks);
        for (RunResult r : results) {
            assertThat(r.getPrimaryResult().getScore()).as(r.getParams().getBenchmark()).isPositive();
        }
    }
}
