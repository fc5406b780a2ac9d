package dev.mmlab.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Strategies;
import dev.mmlab.bench.replay.ReplayScript.ChildExitStep;
import dev.mmlab.bench.replay.ReplayScript.ForkStep;
import dev.mmlab.bench.replay.ReplayScript.Image;
import dev.mmlab.bench.replay.ReplayScript.Step;
import dev.mmlab.bench.trace.Trace;
import dev.mmlab.bench.trace.TraceFiles;
import dev.mmlab.bench.trace.TraceParser;
import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Fork and exec in replay, on {@code traces/synthetic-fork.perf.txt}: parent 40001 (threads 40001, 40002) maps
 * A (written), B (written, MADV_DONTFORK), W (written, MADV_WIPEONFORK) and a heap page, then forks 40003
 * (line 31), which writes A (COW), W (wiped), a new page of A, forks grandchild 40005 (line 35; it writes that
 * page, COW) and exits; the parent then writes two pages the exited child shared (reuse: no copy), forks 40004
 * (line 41) and writes A while 40004 lives (COW), 40004 faults once and execs {@code true}; the parent unmaps W
 * and forks 40006, which execs at once.
 */
class ForkReplayTest {
  private static final String FILE = "synthetic-fork.perf.txt";
  private static final int PARENT = 40001;
  private static final int CHILD = 40003;
  private static final int EXEC_CHILD = 40004;
  private static final int GRANDCHILD = 40005;
  private static final int EXEC_AT_ONCE_CHILD = 40006;
  private static final int CHILD_FORK_LINE = 31;
  /** Parent steps before line 31: 4 exec mappings, 7 syscalls, 6 faults; then the followed fork. */
  private static final long PARENT_PREFIX_EVENTS = 4 + 7 + 6 + 1;

  private static final Trace TRACE = parse(lines());

  private static List<String> lines() {
    try {
      return Files.readAllLines(TraceFiles.resource(FILE), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Trace parse(List<String> lines) {
    try {
      return TraceParser.parse(new StringReader(String.join("\n", lines) + "\n"), FILE, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Stream<String> strategies() {
    return Strategies.discover().names().stream();
  }

  private static ReplayResult replay(Trace trace, int pid, String strategy, ReplayTiming timing) {
    return assertTimeoutPreemptively(Duration.ofSeconds(20), () -> Replayer.replay(
        trace, Strategies.discover().select(strategy), new ReplayOptions(pid, timing, 10)));
  }

  private static ReplayResult serial(int pid, String strategy) {
    return replay(TRACE, pid, strategy, ReplayTiming.SERIAL);
  }

  private static List<String> mapsLines(String maps) {
    return Arrays.stream(maps.split("\n")).filter(l -> !l.isBlank()).collect(Collectors.toList());
  }

  /** The parent's /proc/pid/maps just before the fork of line {@code forkLine}: the trace cut there, replayed. */
  private static List<String> parentMapsBefore(int forkLine, String strategy) {
    Trace cut = parse(lines().subList(0, forkLine - 1));
    return mapsLines(replay(cut, PARENT, strategy, ReplayTiming.SERIAL).finalMaps());
  }

  private static long count(List<Step> steps, Class<? extends Step> kind) {
    return steps.stream().filter(kind::isInstance).count();
  }

  @Test
  void aThreadIsNotAForkAndEachForkOfANewProcessIsAStepOfItsParent() {
    ReplayScript script = ReplayScript.of(TRACE, PARENT);

    assertThat(script.images()).hasSize(1);
    Image image = script.images().get(0);
    assertThat(image.forked()).as("the parent's life starts with exec, not a traced fork").isFalse();
    assertThat(image.tids()).containsExactlyInAnyOrder(40001, 40002);
    assertThat(image.steps()).filteredOn(ForkStep.class::isInstance).map(s -> ((ForkStep) s).childPid())
        .containsExactly(CHILD, EXEC_CHILD, EXEC_AT_ONCE_CHILD);
    assertThat(image.steps()).filteredOn(ForkStep.class::isInstance).allMatch(s -> !((ForkStep) s).follow()
        && s.tid() == PARENT);
    // 40003's last exit (line 38), 40004's exec (line 44), 40006's exec (line 53); not the grandchild's exit.
    assertThat(image.steps()).filteredOn(ChildExitStep.class::isInstance)
        .map(s -> s.event().lineNo() + ":" + ((ChildExitStep) s).childPid())
        .containsExactly("38:40003", "44:40004", "53:40006");
  }

  @Test
  void aForkedChildsPrefixIsItsParentsStepsUpToTheForkThenTheFollowedFork() {
    Image birth = ReplayScript.of(TRACE, CHILD).images().get(0);

    assertThat(birth.forked()).isTrue();
    assertThat(birth.forkRecord().lineNo()).isEqualTo(CHILD_FORK_LINE);
    assertThat(birth.prefix()).hasSize((int) PARENT_PREFIX_EVENTS);
    assertThat(birth.prefix()).allMatch(s -> s.event().lineNo() <= CHILD_FORK_LINE);
    assertThat(count(birth.prefix(), ForkStep.class)).isEqualTo(1);
    assertThat(birth.steps()).allMatch(s -> s.tid() == CHILD);
    // The grandchild's prefix runs through its parent's prefix, then the child's steps up to line 35.
    Image grandBirth = ReplayScript.of(TRACE, GRANDCHILD).images().get(0);
    assertThat(grandBirth.prefix()).filteredOn(ForkStep.class::isInstance)
        .map(s -> ((ForkStep) s).childPid() + (((ForkStep) s).follow() ? "+" : "-"))
        .containsExactly("40003+", "40005+");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void theParentPaysEachForkAndCopiesOnWriteOnlyWhileAChildLives(String strategy) {
    ReplayResult r = serial(PARENT, strategy);

    assertThat(r.fidelity().firstDifferences()).isEmpty();
    assertThat(r.invariantViolations()).isEmpty();
    assertThat(r.forkPrefix().present()).isFalse();
    assertThat(r.fidelity().forks()).isEqualTo(3);
    assertThat(r.fidelity().userFaults()).isEqualTo(9);
    assertThat(r.fidelity().syscalls()).isEqualTo(8);
    assertThat(r.operations().get("fork").count()).isEqualTo(3);
    assertThat(r.operations().get("child_exit").count()).isEqualTo(3);
    // Lines 39 and 40 write pages 40003 shared after it exited: reused. Line 42 writes A while 40004 lives.
    assertThat(r.counters()).containsEntry("fault.cow", 1L).containsEntry("fault.reuse", 2L);
    assertThat(r.finalMaps()).contains("7f0000010000-7f0000012000 rw-p").doesNotContain("7f0000020000-");
    assertThat(r.fidelity().eventsReplayed()).isEqualTo(ReplayScript.of(TRACE, PARENT).stepCount());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void aForkedChildStartsAsItsParentMinusDontforkAndCountsOnlyItsOwnEvents(String strategy) {
    List<String> parentAtFork = parentMapsBefore(CHILD_FORK_LINE, strategy);
    List<String> expected = parentAtFork.stream().filter(l -> !l.startsWith("7f0000010000-"))
        .collect(Collectors.toList());
    assertThat(expected).hasSize(parentAtFork.size() - 1);

    ReplayResult r = serial(CHILD, strategy);

    assertThat(mapsLines(r.finalMaps())).containsExactlyElementsOf(expected);
    assertThat(r.images()).isEqualTo(1);
    assertThat(r.fidelity().firstDifferences()).isEmpty();
    assertThat(r.invariantViolations()).isEmpty();
    assertThat(r.fidelity().userFaults()).isEqualTo(3);
    assertThat(r.fidelity().syscalls()).isZero();
    assertThat(r.fidelity().forks()).as("the grandchild").isEqualTo(1);
    assertThat(r.fidelity().eventsReplayed()).isEqualTo(5).isEqualTo(ReplayScript.of(TRACE, CHILD).stepCount());
    // Line 32 writes A, shared with the parent: a copy. W was wiped, the new page of A was never shared.
    assertThat(r.counters()).containsEntry("fault.cow", 1L);
    assertThat(r.counters()).doesNotContainKey("fault.reuse");
    ReplayResult.ForkPrefix p = r.forkPrefix();
    assertThat(p.present()).isTrue();
    assertThat(p.parentPid()).isEqualTo(PARENT);
    assertThat(p.forkLineNo()).isEqualTo(CHILD_FORK_LINE);
    assertThat(p.fidelity().eventsReplayed()).isEqualTo(PARENT_PREFIX_EVENTS);
    assertThat(p.fidelity().differences()).isZero();
    assertThat(ReplayReport.forkPrefix(r)).startsWith("pid 40003 starts as the fork of pid 40001 at line 31: "
        + "18 events of its ancestors up to it (the fork included) were replayed first");
    @SuppressWarnings("unchecked")
    Map<String, Object> run = ((List<Map<String, Object>>) ReplayReport.json(List.of(r)).get("results")).get(0);
    assertThat(run).containsKey("forkPrefix");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void aGrandchildForksFromItsParentsCopy(String strategy) {
    List<String> expected = parentMapsBefore(CHILD_FORK_LINE, strategy).stream()
        .filter(l -> !l.startsWith("7f0000010000-")).collect(Collectors.toList());

    ReplayResult r = serial(GRANDCHILD, strategy);

    assertThat(mapsLines(r.finalMaps())).containsExactlyElementsOf(expected);
    assertThat(r.fidelity().firstDifferences()).isEmpty();
    assertThat(r.fidelity().userFaults()).isEqualTo(1);
    assertThat(r.invariantViolations()).isEmpty();
    assertThat(r.counters()).containsEntry("fault.cow", 1L);
    assertThat(r.forkPrefix().parentPid()).isEqualTo(CHILD);
    assertThat(r.forkPrefix().forkLineNo()).isEqualTo(35);
    assertThat(r.forkPrefix().fidelity().eventsReplayed()).isEqualTo(PARENT_PREFIX_EVENTS + 3 + 1);
    assertThat(r.forkPrefix().fidelity().differences()).isZero();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("strategies")
  void anExecAfterForkStartsFresh(String strategy) {
    ReplayResult r = serial(EXEC_CHILD, strategy);

    assertThat(r.images()).isEqualTo(2);
    assertThat(r.forkPrefix().parentPid()).isEqualTo(PARENT);
    assertThat(r.forkPrefix().forkLineNo()).isEqualTo(41);
    assertThat(r.fidelity().firstDifferences()).isEmpty();
    assertThat(r.fidelity().userFaults()).isEqualTo(1);
    assertThat(r.fidelity().syscalls()).isEqualTo(1);
    assertThat(r.invariantViolations()).isEmpty();
    assertThat(r.finalMaps()).contains("/usr/bin/true", "7ffe00000000-7ffe00021000 rw-p")
        .doesNotContain("forker", "7f0000000000-");
  }

  @Test
  void aChildThatExecsAtOnceHasNoPrefixToReplay() {
    ReplayScript script = ReplayScript.of(TRACE, EXEC_AT_ONCE_CHILD);
    assertThat(script.images()).hasSize(1);
    assertThat(script.images().get(0).forked()).isFalse();

    ReplayResult r = serial(EXEC_AT_ONCE_CHILD, "rwsem");

    assertThat(r.forkPrefix().present()).isFalse();
    assertThat(r.fidelity().differences()).isZero();
    assertThat(r.finalMaps()).contains("7ffe00000000-7ffe00021000 rw-p").doesNotContain("forker");
  }

  /**
   * The parent's second thread writes pages while the first forks (the fork/COW race the per-VMA lock fix of
   * 6.4 closes): whatever the interleaving, every fault maps and the family's page references add up.
   */
  @RepeatedTest(5)
  void threadedReplaysForkWhileTheOtherThreadFaults() {
    for (String strategy : Strategies.discover().names()) {
      for (ReplayTiming timing : List.of(ReplayTiming.ASAP, ReplayTiming.ORIGINAL)) {
        for (int pid : List.of(PARENT, CHILD)) {
          ReplayResult r = replay(TRACE, pid, strategy, timing);
          String what = strategy + " " + timing.label() + " pid " + pid;
          assertThat(r.invariantViolations()).as(what).isEmpty();
          assertThat(r.fidelity().firstDifferences()).as(what).isEmpty();
          assertThat(r.fidelity().eventsReplayed()).as(what).isEqualTo(ReplayScript.of(TRACE, pid).stepCount());
        }
      }
    }
  }

  /**
   * A parent whose thread 100 writes 16 pages, then forks 20 children one after the other while its thread 101
   * writes those pages over and over; the first child has two threads of its own, which write pages it shares
   * with the parent, and its copy lives until both have exited.
   */
  private static Trace stressTrace() {
    StringBuilder sb = new StringBuilder();
    int[] us = {0};
    java.util.function.BiConsumer<String, String> line = (task, body) -> sb.append(String.format(
        "            prog %-11s 10.%06d: %s%n", task, us[0]++, body));
    line.accept("100/100",
        "PERF_RECORD_MMAP2 100/100: [0x7ffff0000000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]");
    line.accept("100/100", "syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00010000, prot: 0x00000003, "
        + "flags: 0x00000022, fd: 0xffffffff, off: 0x00000000");
    line.accept("100/100", "syscalls:sys_exit_mmap: 0x7f0000000000");
    for (int p = 0; p < 16; p++) {
      line.accept("100/100", "exceptions:page_fault_user: address=0x" + Long.toHexString(0x7f0000000000L + p * 0x1000L)
          + " ip=0x555555555000 error_code=0x6");
    }
    line.accept("100/100", "PERF_RECORD_FORK(100:101):(100:100)");
    for (int i = 0; i < 20; i++) {
      int child = 200 + i;
      line.accept("100/100", "PERF_RECORD_FORK(" + child + ":" + child + "):(100:100)");
      if (i == 0) {
        line.accept("200/200", "PERF_RECORD_FORK(200:199):(200:200)");
      }
      for (int p = 0; p < 16; p++) {
        long page = 0x7f0000000000L + p * 0x1000L;
        line.accept("100/101", "exceptions:page_fault_user: address=0x" + Long.toHexString(page + 8 * i)
            + " ip=0x555555555000 error_code=0x7");
        if (i == 0 && p % 4 == 0) {
          line.accept("200/" + (p % 8 == 0 ? 200 : 199), "exceptions:page_fault_user: address=0x"
              + Long.toHexString(page + 16) + " ip=0x555555555000 error_code=0x7");
        }
      }
      if (i == 0) {
        line.accept("200/200", "PERF_RECORD_EXIT(200:200):(100:100)");
      }
      line.accept(child + "/" + (i == 0 ? 199 : child), "PERF_RECORD_EXIT(" + child + ":" + (i == 0 ? 199 : child)
          + "):(100:100)");
    }
    try {
      return TraceParser.parse(new StringReader(sb.toString()), "stress.perf.txt", false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Test
  void aChildsCopyLivesUntilItsLastThreadExits() {
    Trace t = stressTrace();
    List<Step> steps = ReplayScript.of(t, 100).images().get(0).steps();
    ChildExitStep first = (ChildExitStep) steps.stream().filter(ChildExitStep.class::isInstance).findFirst()
        .orElseThrow();
    assertThat(first.childPid()).isEqualTo(200);
    assertThat(first.event().tid()).as("the second of the child's two exits").isEqualTo(199);
    assertThat(count(steps, ForkStep.class)).isEqualTo(20);
    assertThat(count(steps, ChildExitStep.class)).isEqualTo(20);
    assertThat(ReplayScript.of(t, 200).images().get(0).tids()).containsExactlyInAnyOrder(200, 199);
  }

  @RepeatedTest(3)
  void forksRacingFaultsOfAnotherThreadKeepEveryStrategysInvariants() {
    Trace t = stressTrace();
    for (String strategy : Strategies.discover().names()) {
      for (int pid : List.of(100, 200)) {
        for (ReplayTiming timing : List.of(ReplayTiming.SERIAL, ReplayTiming.ASAP)) {
          ReplayResult r = replay(t, pid, strategy, timing);
          String what = strategy + " " + timing.label() + " pid " + pid;
          assertThat(r.invariantViolations()).as(what).isEmpty();
          assertThat(r.fidelity().firstDifferences()).as(what).isEmpty();
          assertThat(r.fidelity().userFaults()).as(what).isEqualTo(pid == 100 ? 16 + 320 : 4);
          assertThat(r.fidelity().forks()).as(what).isEqualTo(pid == 100 ? 20 : 0);
          if (pid == 200) {
            assertThat(r.counters()).as(what).containsEntry("fault.cow", 4L);
          }
        }
      }
    }
  }
}
