package dev.mmlab.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Strategies;
import dev.mmlab.bench.trace.Trace;
import dev.mmlab.bench.trace.TraceParser;
import java.io.IOException;
import java.io.StringReader;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class ReplayerTest {
  private static final String HEAD = "            prog   100/100   10.%06d: ";

  /** Builds a trace from bodies; each line gets the next microsecond, tid 100 unless the body starts "tid=N ". */
  private static Trace trace(String... bodies) throws IOException {
    StringBuilder sb = new StringBuilder();
    int us = 0;
    for (String b : bodies) {
      String head = String.format(HEAD, us++);
      if (b.startsWith("tid=")) {
        int sp = b.indexOf(' ');
        head = head.replace("100/100", "100/" + b.substring(4, sp));
        b = b.substring(sp + 1);
      }
      sb.append(head).append(b).append('\n');
    }
    return TraceParser.parse(new StringReader(sb.toString()), "test.perf.txt", false);
  }

  private static ReplayResult serial(Trace t) {
    return Replayer.replay(t, Strategies.discover().select("rwsem"), ReplayOptions.serial());
  }

  private static final String[] EXEC = {
    "PERF_RECORD_MMAP2 100/100: [0x7ffff0000000(0x21000) @ 0x7ffffffde000 00:00 0 0]: rw-p [stack]",
    "PERF_RECORD_MMAP2 100/100: [0x555555554000(0x2000) @ 0 fe:00 77 0]: r--p /usr/bin/prog",
    "PERF_RECORD_MMAP2 100/100: [0x555555555000(0x1000) @ 0x1000 fe:00 77 0]: r-xp /usr/bin/prog",
    "PERF_RECORD_MMAP2 100/100: [0x7f0000100000(0x2000) @ 0 00:00 0 0]: r-xp [vdso]",
    "syscalls:sys_enter_brk: brk: 0x00000000",
    "syscalls:sys_exit_brk: 0x555555600000",
  };

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  @Test
  void execMappingsFilesAndSharedAnonShowAsTheKernelShowedThem() throws IOException {
    Trace t = trace(concat(EXEC,
        "syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00003000, prot: 0x00000001, flags: 0x00000002, fd: 0x00000003, off: 0x00001000",
        "PERF_RECORD_MMAP2 100/100: [0x7f0000200000(0x3000) @ 0x1000 fe:00 4242 0]: r--p /data/file",
        "syscalls:sys_exit_mmap: 0x7f0000200000",
        "syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00002000, prot: 0x00000003, flags: 0x00000021, fd: 0xffffffff, off: 0x00000000",
        "PERF_RECORD_MMAP2 100/100: [0x7f0000300000(0x2000) @ 0 00:01 31 0]: rw-s /dev/zero (deleted)",
        "syscalls:sys_exit_mmap: 0x7f0000300000",
        "syscalls:sys_enter_brk: brk: 0x555555602000",
        "syscalls:sys_exit_brk: 0x555555602000",
        "exceptions:page_fault_user: address=0x7f0000100010 ip=0x7f0000100010 error_code=0x14",
        "exceptions:page_fault_user: address=0x555555600008 ip=0x555555555000 error_code=0x6",
        "exceptions:page_fault_user: address=0x7ffff0020000 ip=0x555555555000 error_code=0x6"));

    ReplayResult r = serial(t);

    assertThat(r.fidelity().firstDifferences()).isEmpty();
    assertThat(r.fidelity().syscalls()).isEqualTo(4);
    assertThat(r.fidelity().userFaults()).isEqualTo(3);
    assertThat(r.invariantViolations()).isEmpty();
    assertThat(r.finalMaps()).contains(
        "555555554000-555555555000 r--p 00000000 fe:00 77", "/usr/bin/prog",
        "555555555000-555555556000 r-xp 00001000 fe:00 77",
        "555555600000-555555602000 rw-p 00000000 00:00 0", "[heap]",
        "7f0000100000-7f0000102000 r-xp 00000000 00:00 0", "[vdso]",
        "7f0000200000-7f0000203000 r--p 00001000 fe:00 4242", "/data/file",
        "7f0000300000-7f0000302000 rw-s 00000000 00:01 31", "/dev/zero (deleted)",
        "7ffff0000000-7ffff0021000 rw-p 00000000 00:00 0", "[stack]");
  }

  @Test
  void aResultOrFaultOutcomeTheKernelDidNotHaveIsADifferenceWithItsLine() throws IOException {
    Trace t = trace(concat(EXEC,
        "syscalls:sys_enter_munmap: addr: 0x7f0000400000, len: 0x00001000",
        "syscalls:sys_exit_munmap: 0xffffffffffffffea", // the kernel said EINVAL; the model unmaps nothing: 0
        "exceptions:page_fault_user: address=0x7f0000500000 ip=0x555555555000 error_code=0x6",
        "exceptions:page_fault_kernel: address=0x7f0000600000 ip=_copy_to_user error_code=0x2"));

    Fidelity f = serial(t).fidelity();

    assertThat(f.syscallDifferences()).isEqualTo(1);
    assertThat(f.faultDifferences()).isEqualTo(1);
    assertThat(f.kernelFaults()).isEqualTo(1);
    assertThat(f.firstDifferences()).extracting(Fidelity.Difference::toString).containsExactly(
        "line 7: munmap(addr=0x7f0000400000, len=0x1000): expected -EINVAL (22), got 0x0",
        "line 9: user fault at 0x7f0000500000 error_code=0x6 (WRITE): expected MAPPED, got SEGV");
  }

  @Test
  void anExecStartsAFreshAddressSpace() throws IOException {
    Trace t = trace(concat(concat(EXEC,
        "syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00001000, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000",
        "syscalls:sys_exit_mmap: 0x7f0000700000",
        "PERF_RECORD_COMM exec: other:100/100"),
        EXEC));

    ReplayResult r = serial(t);

    assertThat(r.images()).isEqualTo(2);
    assertThat(r.fidelity().differences()).isZero();
    assertThat(r.finalMaps()).doesNotContain("7f0000700000").contains("[stack]");
  }

  @Test
  void anMmapWithoutAddressLandsWhereTheKernelPutIt() throws IOException {
    Trace t = trace(concat(EXEC,
        "syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00004000, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000",
        "syscalls:sys_exit_mmap: 0x7f1234560000",
        "syscalls:sys_enter_mremap: addr: 0x7f1234560000, old_len: 0x00004000, new_len: 0x00008000, flags: 0x00000001, new_addr: 0x00000000",
        "syscalls:sys_exit_mremap: 0x7f2000000000"));

    ReplayResult r = serial(t);

    assertThat(r.fidelity().firstDifferences()).isEmpty();
    assertThat(r.finalMaps()).contains("7f2000000000-7f2000008000 rw-p").doesNotContain("7f1234560000-");
  }

  /**
   * Thread 101's first event faults in memory thread 100 mapped just before: in asap mode thread 101 must not
   * start before that mmap, or the fault would be a SEGV.
   */
  @RepeatedTest(20)
  void aThreadStartsOnlyAfterTheEventsBeforeItsFirstOne() throws IOException {
    List<String> lines = new java.util.ArrayList<>(List.of(EXEC));
    for (int i = 0; i < 20; i++) {
      long addr = 0x7f0001000000L + i * 0x10000L;
      lines.add("syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00002000, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000");
      lines.add("syscalls:sys_exit_mmap: 0x" + Long.toHexString(addr));
      lines.add("tid=" + (101 + i) + " exceptions:page_fault_user: address=0x" + Long.toHexString(addr + 8)
          + " ip=0x555555555000 error_code=0x6");
      lines.add("exceptions:page_fault_user: address=0x" + Long.toHexString(addr + 0x1000)
          + " ip=0x555555555000 error_code=0x6");
    }
    Trace t = trace(lines.toArray(String[]::new));

    for (ReplayTiming timing : List.of(ReplayTiming.ASAP, ReplayTiming.ORIGINAL)) {
      ReplayResult r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> Replayer.replay(
          t, Strategies.discover().select("rwsem"), new ReplayOptions(100, timing, 10)));
      assertThat(r.fidelity().firstDifferences()).as(timing.label()).isEmpty();
      assertThat(r.fidelity().userFaults()).isEqualTo(40);
      assertThat(r.invariantViolations()).isEmpty();
    }
  }
}
