package dev.mmlab.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.Strategies;
import dev.mmlab.bench.trace.Syscall;
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
 * The kernel's mmap_lock acquisitions per operation kind, beside the model's. {@code synthetic-kernel-lock-use.perf.txt}:
 * an mmap (write), a user fault that falls back to the mmap_lock (read), a fault without lock events (per-VMA lock),
 * a madvise whose only attempt failed, and a munmap that downgrades its write lock (one acquisition, not two).
 */
class ReplayKernelLockUseTest {
  private static Trace parse(String resource) throws IOException {
    return TraceParser.parse(TraceFiles.resource(resource), false);
  }

  @Test
  void syntheticCountsEachGrantOnceUnderItsSyscallOrFault() throws IOException {
    Trace trace = parse("synthetic-kernel-lock-use.perf.txt");
    KernelLockUse kernel = KernelLockUse.of(ReplayScript.of(trace, trace.defaultPid()));

    assertThat(kernel.recorded()).isTrue();
    assertThat(kernel.counts()).isEqualTo(Map.of(
        "mmap", Map.of("read", 0L, "write", 1L),
        "fault", Map.of("read", 1L, "write", 0L),
        "munmap", Map.of("read", 0L, "write", 1L)));
  }

  @Test
  void reportPutsKernelCountsBesideTheStrategys() throws IOException {
    Trace trace = parse("synthetic-kernel-lock-use.perf.txt");
    KernelLockUse kernel = KernelLockUse.of(ReplayScript.of(trace, trace.defaultPid()));
    ReplayResult rwsem = Replayer.replay(trace, Strategies.discover().select("rwsem"),
        new ReplayOptions(trace.defaultPid(), ReplayTiming.SERIAL, 1));

    assertThat(ReplayReport.json(List.of(rwsem), kernel)).containsEntry("kernelLockUse", kernel.counts())
        .containsKey("results");
    assertThat(ReplayReport.json(List.of(rwsem))).doesNotContainKey("kernelLockUse");
    // rwsem takes the read lock for both faults and madvise; the kernel took it for one fault and no madvise.
    assertThat(ReplayReport.kernelLockUse(List.of(rwsem), kernel))
        .contains("kernel vs model")
        .containsPattern("rwsem\\s+fault\\s+1\\s+2\\s+\\+1\\s+0\\s+0\\s+0")
        .containsPattern("rwsem\\s+madvise\\s+0\\s+1\\s+\\+1")
        .containsPattern("rwsem\\s+munmap\\s+0\\s+0\\s+0\\s+1\\s+1\\s+0");
  }

  @Test
  void traceWithoutLockEventsHasNoKernelSection() throws IOException {
    String text = Files.readAllLines(TraceFiles.resource("synthetic-kernel-lock-use.perf.txt")).stream()
        .filter(l -> !l.contains(" mmap_lock:"))
        .collect(Collectors.joining("\n", "", "\n"));
    Trace without = TraceParser.parse(new StringReader(text), "without-lock-events", false);
    KernelLockUse kernel = KernelLockUse.of(ReplayScript.of(without, without.defaultPid()));

    assertThat(kernel.recorded()).isFalse();
    assertThat(ReplayReport.kernelLockUse(List.of(), kernel)).isEmpty();
  }

  @Test
  void recordedTraceEveryMunmapTookTheWriteLockOnce() throws IOException {
    Trace trace = parse("threads4-lockorder.perf.txt.gz");
    int pid = trace.defaultPid();
    Map<String, Map<String, Long>> counts = KernelLockUse.of(ReplayScript.of(trace, pid)).counts();
    long munmaps = trace.eventsOfType(Syscall.class).stream()
        .filter(s -> s.pid() == pid && s.name().equals("munmap")).count();
    long mprotects = trace.eventsOfType(Syscall.class).stream()
        .filter(s -> s.pid() == pid && s.name().equals("mprotect")).count();

    assertThat(munmaps).isGreaterThan(800);
    assertThat(counts.get("munmap")).isEqualTo(Map.of("read", 0L, "write", munmaps));
    assertThat(counts.get("mprotect")).isEqualTo(Map.of("read", 0L, "write", mprotects));
    // 6.18 takes the write lock for every mmap; faults mostly take per-VMA locks, so few fall back to mmap_lock.
    assertThat(counts.get("mmap").get("write")).isGreaterThan(800);
    assertThat(counts.get("mmap").get("read")).isZero();
    assertThat(counts.get("fault").get("read")).isPositive().isLessThan(1000);
  }

  @Test
  void recordedTraceExecsGrantsCountAsExecNotAsTheFaultsBeforeThem() throws IOException {
    Trace trace = parse("threads4-lockorder.perf.txt.gz");
    Map<String, Map<String, Long>> counts = KernelLockUse.of(ReplayScript.of(trace, trace.defaultPid())).counts();

    // Lines 4-66: execve's 13 write grants (12 mappings, vdso/vvar/vvar_vclock under one grant, and 3 grants
    // that map nothing) between the COMM exec and the first user fault; its 3 kernel faults (elf_load twice,
    // _copy_to_user) keep only their own read holds.
    assertThat(counts.get("exec")).isEqualTo(Map.of("read", 0L, "write", 13L));
    assertThat(counts.get("fault").get("write")).isZero();
  }

  @Test
  void recordedTraceModelTakesTheWriteLockPerSyscallAsTheKernel() throws IOException {
    Trace trace = parse("threads4-lockorder.perf.txt.gz");
    int pid = trace.defaultPid();
    Map<String, Map<String, Long>> kernel = KernelLockUse.of(ReplayScript.of(trace, pid)).counts();
    ReplayResult pervma = Replayer.replay(trace, Strategies.discover().select("pervma"),
        new ReplayOptions(pid, ReplayTiming.SERIAL, 1));
    long execMappings = ReplayScript.of(trace, pid).images().stream().flatMap(i -> i.steps().stream())
        .filter(s -> s instanceof ReplayScript.ExecMapping).count();

    assertThat(execMappings).isEqualTo(12);
    assertThat(pervma.lockUse().get("exec").get("write")).isEqualTo(execMappings);
    for (String op : List.of("brk", "mmap", "mprotect", "munmap")) {
      assertThat(pervma.lockUse().get(op).get("write")).as(op).isEqualTo(kernel.get(op).get("write"));
    }
    // brk: the two brk(0) queries take the write lock too, as SYSCALL_DEFINE1(brk) does.
    assertThat(kernel.get("brk").get("write")).isEqualTo(3);
  }
}
