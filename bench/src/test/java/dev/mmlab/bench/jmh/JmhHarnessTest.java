package dev.mmlab.bench.jmh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Collection;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/** One tiny iteration of the benchmarks in-process, so the JMH harness (and its generated code) cannot rot. */
class JmhHarnessTest {
    @Test
    void oneTinyIterationOfEachBenchmarkClass() {
        Options opts = new OptionsBuilder()
                .include(FaultBenchmark.class.getName() + ".anonFault")
                .include(FaultBenchmark.class.getName() + ".mappedPageFault")
                .include(SyscallBenchmark.class.getName() + ".lockWriteRange")
                .param("strategy", "rwsem")
                .param("vmas", "10")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .shouldFailOnError(true)
                .build();
        Collection<RunResult> results = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> new Runner(opts).run());
        assertThat(results).hasSize(3);
        for (RunResult r : results) {
            assertThat(r.getPrimaryResult().getScore()).as(r.getParams().getBenchmark()).isPositive();
        }
    }

    /** The variants the former measuring harnesses' figures come from: bytes per VMA, held ranges, two threads. */
    @Test
    void footprintAndTwoThreadsBesideHeldRangesRun() {
        Options opts = new OptionsBuilder()
                .include(VmaFootprintBenchmark.class.getName() + ".newAnonVma")
                .include(SyscallBenchmark.class.getName() + ".lockWriteRange")
                .param("strategy", "rangelock")
                .param("vmas", "10")
                .param("heldRanges", "4")
                .threads(2)
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(100))
                .shouldFailOnError(true)
                .build();
        Collection<RunResult> results = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> new Runner(opts).run());
        assertThat(results).hasSize(2);
        for (RunResult r : results) {
            assertThat(r.getPrimaryResult().getScore()).as(r.getParams().getBenchmark()).isPositive();
        }
    }
}
