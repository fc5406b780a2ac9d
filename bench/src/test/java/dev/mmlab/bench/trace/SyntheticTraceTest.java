package dev.mmlab.bench.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The hand-written trace with the lines the recorded samples lack: the mlock family and task records. */
class SyntheticTraceTest {

  private static Trace synthetic() throws IOException {
    return TraceParser.parse(TraceFiles.resource("synthetic-mlock-task.perf.txt"), false);
  }

  @Test
  void importsEveryKindInFileOrder() throws IOException {
    Trace t = synthetic();

    assertThat(t.lineCount()).isEqualTo(30);
    assertThat(t.events().stream().map(e -> e.getClass().getSimpleName() + "@" + e.lineNo())
            .collect(Collectors.toList()))
        .containsExactly(
            "CommRecord@2", "CommRecord@3", "Mmap2Record@4", "Syscall@5", "Mmap2Record@6", "Syscall@8",
            "Syscall@10", "Syscall@12", "ForkRecord@14", "PageFault@15", "Syscall@16", "Syscall@17",
            "ExitRecord@20", "ForkRecord@23", "PageFault@24", "CommRecord@25", "Mmap2Record@26", "Syscall@27",
            "ExitRecord@29", "ExitRecord@30");
    assertThat(t.ignoredEvents()).containsOnly(
        entry("PERF_RECORD_MMAP", 1), entry("syscalls:sys_enter_openat", 1), entry("sched:sched_process_fork", 1));
    assertThat(t.ignoredLines()).isEqualTo(3);
  }

  @Test
  void mlockFamily() throws IOException {
    Trace t = synthetic();
    List<Syscall> calls = t.eventsOfType(Syscall.class);

    Syscall mlock2 = calls.get(1);
    assertThat(mlock2.name()).isEqualTo("mlock2");
    assertThat(mlock2.args()).containsExactly(
        entry("start", 0x7f0000000000L), entry("len", 0x2000L), entry("flags", 1L)); // MLOCK_ONFAULT
    assertThat(mlock2.ret()).isZero();
    assertThat(mlock2.exitLineNo()).isEqualTo(9);
    assertThat(mlock2.durationNs()).isEqualTo(5_000);

    Syscall munlock = calls.get(2);
    assertThat(munlock.name()).isEqualTo("munlock");
    assertThat(munlock.args()).containsExactly(entry("start", 0x7f0000000000L), entry("len", 0x1000L));

    Syscall mlockall = calls.get(3);
    assertThat(mlockall.name()).isEqualTo("mlockall");
    assertThat(mlockall.args()).containsExactly(entry("flags", 3L)); // MCL_CURRENT | MCL_FUTURE

    // Interleaved: pkey_mprotect of the new thread and munlockall of the main thread.
    Syscall pkey = calls.get(4);
    assertThat(pkey.name()).isEqualTo("pkey_mprotect");
    assertThat(pkey.tid()).isEqualTo(30002);
    assertThat(pkey.arg("pkey")).isEqualTo(1);
    assertThat(pkey.exitLineNo()).isEqualTo(18);
    assertThat(pkey.errno()).isEqualTo(22); // 0xffffffffffffffea
    Syscall munlockall = calls.get(5);
    assertThat(munlockall.name()).isEqualTo("munlockall");
    assertThat(munlockall.tid()).isEqualTo(30001);
    assertThat(munlockall.args()).isEmpty();
    assertThat(munlockall.exitLineNo()).isEqualTo(19);
    assertThat(munlockall.failed()).isFalse();
  }

  @Test
  void taskRecordsGroupEventsByProcess() throws IOException {
    Trace t = synthetic();

    assertThat(t.pids()).containsExactly(30001, 30003);
    assertThat(t.eventsOf(30001)).hasSize(14);
    assertThat(t.eventsOf(30003)).hasSize(6);
    assertThat(t.eventsOf(4242)).isEmpty();
    assertThat(t.tidsOf(30001)).containsExactly(30001, 30002);
    assertThat(t.tidsOf(30003)).containsExactly(30003);
    assertThat(t.defaultPid()).isEqualTo(30001);

    List<ForkRecord> forks = t.eventsOfType(ForkRecord.class);
    assertThat(forks.get(0).isThread()).isTrue();
    assertThat(List.of(forks.get(0).pid(), forks.get(0).tid(), forks.get(0).ppid(), forks.get(0).ptid()))
        .containsExactly(30001, 30002, 30001, 30001);
    assertThat(forks.get(1).isThread()).isFalse();
    assertThat(forks.get(1).pid()).isEqualTo(30003);
    assertThat(forks.get(1).comm()).isEqualTo("locker"); // the parent's header

    List<CommRecord> comms = t.eventsOfType(CommRecord.class);
    assertThat(comms).extracting(CommRecord::newComm).containsExactly("perf-exec", "locker", "true");
    assertThat(comms).extracting(CommRecord::exec).containsExactly(false, true, true);
    assertThat(comms.get(2).pid()).isEqualTo(30003);

    List<ExitRecord> exits = t.eventsOfType(ExitRecord.class);
    assertThat(exits).extracting(ExitRecord::tid).containsExactly(30002, 30003, 30001);
    assertThat(exits.get(2).ppid()).isEqualTo(30000);
  }

  @Test
  void munlockallWithoutTrailingSpace() throws IOException {
    String text = "a 1/1 1.000001: syscalls:sys_enter_munlockall:\n"
        + "a 1/1 1.000002: syscalls:sys_exit_munlockall: 0x0\n";
    Trace t = TraceParser.parse(new StringReader(text), "inline", false);
    assertThat(t.eventsOfType(Syscall.class)).singleElement()
        .satisfies(s -> assertThat(s.args()).isEmpty());
  }

  @Test
  void commWithSpacesAndNanosecondTimestamps() throws IOException {
    String text = "    Web Content  4242/4250  12.000000007:       exceptions:page_fault_user:"
        + " address=0x7f0000001000 ip=0x7f0000002000 error_code=0x15\n";
    Trace t = TraceParser.parse(new StringReader(text), "inline", false);
    PageFault f = t.eventsOfType(PageFault.class).get(0);
    assertThat(f.comm()).isEqualTo("Web Content");
    assertThat(f.pid()).isEqualTo(4242);
    assertThat(f.tid()).isEqualTo(4250);
    assertThat(f.timeNs()).isEqualTo(12_000_000_007L);
    assertThat(f.isInstructionFetch()).isTrue();
    assertThat(f.isProtection()).isTrue();
    assertThat(f.isWrite()).isFalse();
  }

  @Test
  void commsThatLookLikeHeaderFields() throws IOException {
    String text = "     kworker/0:1    12/12     5.000001: exceptions:page_fault_kernel: address=0x1000 ip=fn error_code=0x0\n"
        + "            1234  1234/1234   5.000002: PERF_RECORD_COMM: a:b 1/2:1234/1234\n"
        + "  1/2 3  77/78   5.000003: exceptions:page_fault_user: address=0x2000 ip=0x3000 error_code=0x4\n";
    Trace t = TraceParser.parse(new StringReader(text), "inline", false);
    assertThat(t.events()).extracting(TraceEvent::comm).containsExactly("kworker/0:1", "1234", "1/2 3");
    assertThat(t.events()).extracting(TraceEvent::pid).containsExactly(12, 1234, 77);
    assertThat(((CommRecord) t.events().get(1)).newComm()).isEqualTo("a:b 1/2");
  }

  @Test
  void emptyTraceHasNoDefaultPid() throws IOException {
    Trace t = TraceParser.parse(new StringReader(""), "empty", false);
    assertThat(t.events()).isEmpty();
    assertThat(t.pids()).isEmpty();
    assertThatThrownBy(t::defaultPid).isInstanceOf(IllegalStateException.class).hasMessageContaining("empty");
  }

  @Test
  void argLookupNamesWhatExists() throws IOException {
    Syscall mmap = synthetic().eventsOfType(Syscall.class).get(0);
    assertThat(mmap.argInt("fd")).isEqualTo(-1);
    assertThat(mmap.arg("fd")).isEqualTo(0xffffffffL);
    assertThatThrownBy(() -> mmap.arg("start"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'start'")
        .hasMessageContaining("[addr, len, prot, flags, fd, off]");
  }
}
