package dev.mmlab.bench.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Strategies;
import dev.mmlab.bench.UsageException;
import dev.mmlab.bench.scenario.Scenario;
import dev.mmlab.bench.scenario.ScenarioParams;
import dev.mmlab.bench.scenario.Scenarios;
import dev.mmlab.bench.scenario.TestDriver;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every built-in scenario runs briefly (small regions) under rwsem and, where disjoint, under unsafe-nolock:
 * its operations appear under their contract names and the invariant checker finds nothing. Under
 * unsafe-nolock that also checks the scenario really is disjoint: a shared VMA would corrupt the layout.
 */
class ScenarioRunsTest {
    private static final Runner.Options SHORT = new Runner.Options(0.25, 0.05, 7, 20, true);

    static Stream<Arguments> scenarios() {
        return Stream.of(
                Arguments.of("slow-file-fault", Map.of("latency", "300us", "fileSize", "4m"),
                        List.of("reader/fault", "mapper/iteration", "faulters/fault")),
                Arguments.of("proc-scan", Map.of("vmas", "200"),
                        List.of("scanner/read", "remapper/mmap", "remapper/mprotect", "remapper/munmap")),
                Arguments.of("big-munmap", Map.of("bigRegion", "4m"),
                        List.of("unmapper/munmap", "faulters/fault", "mapper/iteration")),
                Arguments.of("fault-vs-mmap", Map.of(), List.of("faulters/fault", "mapper/iteration")),
                Arguments.of("fault-vs-mmap", Map.of("adjacent", "true"), List.of("faulters/fault", "mapper/iteration")),
                Arguments.of("thread-spawn", Map.of(), List.of("spawner/iteration", "faulters/fault")),
                Arguments.of("reclaim-stall", Map.of("stallLatency", "200us"), List.of("faulters/fault", "mapper/iteration")),
                Arguments.of("gup-slow", Map.of("latency", "300us", "fileSize", "4m"),
                        List.of("gup/call", "mapper/iteration", "faulters/fault")),
                Arguments.of("page-fault1", Map.of("region", "4m"), List.of("workers/page")),
                Arguments.of("page-fault2", Map.of("region", "4m"), List.of("workers/page")),
                Arguments.of("page-fault3", Map.of("region", "4m"), List.of("workers/page")),
                Arguments.of("mmap1", Map.of("region", "4m"), List.of("workers/iteration")),
                Arguments.of("spf-test", Map.of(), List.of("workers/iteration")),
                Arguments.of("fork-storm", Map.of("vmas", "100"), List.of("forker/fork", "forker/iteration", "faulters/fault")),
                Arguments.of("fault-vs-mmap", Map.of("driver", TestDriver.NAME),
                        List.of("faulters/fault", "mapper/iteration", "driver/fault")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("scenarios")
    void runsCleanUnderEachApplicableStrategy(String name, Map<String, String> set, List<String> ops) {
        Scenario s = Scenarios.find(name);
        ScenarioParams p = ScenarioParams.of(s.name(), s.params(), set);
        List<String> specs = s.disjoint(p) ? List.of("rwsem", UnsafeNoLockStrategy.NAME) : List.of("rwsem");
        for (StrategyChoice c : StrategyChoice.resolve(specs, Strategies.discover())) {
            RunResult r = assertTimeoutPreemptively(Duration.ofSeconds(40),
                    () -> new Runner().run(s, p, c, SHORT, f -> { }));
            assertThat(r.error()).as(c.label()).isNull();
            assertThat(r.invariantViolations()).as(c.label() + ": " + r.violations()).isZero();
            assertThat(r.ops().keySet()).as(c.label()).containsAll(ops);
            assertThat(r.ops().get(ops.get(0)).count()).as(c.label() + " " + ops.get(0)).isPositive();
            assertThat(r.seconds()).isBetween(0.2, 5.0);
            assertThat(r.strategy()).isEqualTo(c.label());
        }
    }

    /**
     * Every child a fork-storm forks writes its copy-on-write pages and exits while the parent keeps faulting:
     * under every strategy, and with pervma's fork-time VMA locking off, the parent's checker then finds every
     * page either mapped by the parent or free (a child that kept or freed a shared page early shows as a leak
     * or a bad count).
     */
    @Test
    void forkStormLeavesOnlyTheParentsPagesUnderEveryStrategy() {
        Scenario s = Scenarios.find("fork-storm");
        ScenarioParams p = ScenarioParams.of(s.name(), s.params(), Map.of("vmas", "100", "faulters", "2"));
        List<StrategyChoice> choices = StrategyChoice.resolve(List.of("all", "pervma:forkVmaLocking=false"),
                Strategies.discover());
        for (StrategyChoice c : choices) {
            RunResult r = assertTimeoutPreemptively(Duration.ofSeconds(40),
                    () -> new Runner().run(s, p, c, SHORT, f -> { }));
            assertThat(r.error()).as(c.label()).isNull();
            assertThat(r.invariantViolations()).as(c.label() + ": " + r.violations()).isZero();
            assertThat(r.ops().get("forker/iteration").count()).as(c.label()).isPositive();
            assertThat(r.counters().get("fork.ok")).as(c.label()).isPositive();
        }
    }

    @Test
    void waitsAreMeasuredAndGroupedByRole() {
        Scenario s = Scenarios.find("fault-vs-mmap");
        ScenarioParams p = ScenarioParams.of(s.name(), s.params(), Map.of());
        StrategyChoice rwsem = StrategyChoice.resolve(List.of("rwsem"), Strategies.discover()).get(0);
        RunResult r = assertTimeoutPreemptively(Duration.ofSeconds(30),
                () -> new Runner().run(s, p, rwsem, new Runner.Options(0.5, 0.1, 1, 20, true), f -> { }));
        // Under one rwsem the mapper's mmap/munmap and the faulters block each other though they never share an address.
        assertThat(r.waits().count()).isPositive();
        assertThat(r.waits().falseConflicts()).isPositive();
        assertThat(r.waits().byCause()).allSatisfy(c -> {
            assertThat(c.waiter()).matches("(faulters|mapper)/\\w+");
            assertThat(c.holder()).matches("(faulters|mapper)/\\w+");
        });
        long sum = r.waits().byCause().stream().mapToLong(WaitStats.Cause::count).sum();
        // The totals and the per-cause table are read one after the other while the run's last waits may still
        // be recorded (threads leaving after the measured window), so they may differ by a few waits.
        assertThat(sum).isBetween(r.waits().count() - 16, r.waits().count() + 16);
        assertThat(r.counters()).containsKey("fault.MAPPED");
    }

    @Test
    void unsafeNolockIsRefusedWhereThreadsShareVmas() {
        Strategies found = Strategies.discover();
        StrategyChoice unsafe = StrategyChoice.resolve(List.of(UnsafeNoLockStrategy.NAME), found).get(0);
        for (String name : List.of("proc-scan", "fault-vs-mmap", "fork-storm")) {
            Scenario s = Scenarios.find(name);
            Map<String, String> set = new LinkedHashMap<>();
            if (name.equals("fault-vs-mmap")) {
                set.put("adjacent", "true");
            }
            ScenarioParams p = ScenarioParams.of(s.name(), s.params(), set);
            assertThatThrownBy(() -> new Runner().run(s, p, unsafe, SHORT, f -> { }))
                    .isInstanceOf(UsageException.class).hasMessageContaining("unsafe-nolock is valid only for disjoint scenarios");
        }
    }

    @Test
    void strategySpecsResolveInOrder() {
        Strategies found = Strategies.discover();
        List<StrategyChoice> c = StrategyChoice.resolve(List.of("rwsem:faultRetry=false", "unsafe-nolock", "all"), found);
        assertThat(c.get(0).label()).isEqualTo("rwsem:faultRetry=false");
        assertThat(c.get(0).config().bool("faultRetry")).isFalse();
        assertThat(c.get(1).isUnsafeReference()).isTrue();
        assertThat(c.subList(2, c.size())).extracting(StrategyChoice::label).containsExactlyElementsOf(found.names());
        assertThatThrownBy(() -> StrategyChoice.resolve(List.of("nosuch"), found)).isInstanceOf(UsageException.class)
                .hasMessageContaining("no strategy named 'nosuch'");
        assertThatThrownBy(() -> StrategyChoice.resolve(List.of("rwsem:bogus=1"), found)).isInstanceOf(UsageException.class)
                .hasMessageContaining("unknown option 'bogus'");
    }
}
