package dev.mmlab.bench.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real traces: three shared programs and ten oracle runs. Exact numbers below were counted with
 * {@code zcat F | awk '{print $4}' | sort | uniq -c} and {@code grep -c}, not with this parser.
 */
class RecordedTracesTest {

  static Stream<String> allRecorded() {
    return Stream.concat(TraceFiles.SHARED.stream(), TraceFiles.ORACLE.stream());
  }

  @ParameterizedTest
  @MethodSource("allRecorded")
  void parsesStrictlyAndAccountsForEveryLine(String name) throws IOException {
    Trace t = TraceParser.parse(TraceFiles.recorded(name), false);

    assertThat(t.skippedLines()).isZero();
    assertThat(t.errorCount()).isZero();
    assertThat(t.errors()).isEmpty();
    assertThat(t.ignoredEvents()).containsEntry("PERF_RECORD_MMAP", 1); // the kernel image, pid -1
    // A syscall is two lines, every other event one, and nothing else is in these files.
    int syscalls = t.eventsOfType(Syscall.class).size();
    assertThat(t.events().size() + syscalls + t.ignoredLines()).isEqualTo(t.lineCount());

    int previousLine = 0;
    for (TraceEvent e : t.events()) {
      assertThat(e.lineNo()).isGreaterThan(previousLine);
      previousLine = e.lineNo();
    }
    for (Syscall s : t.eventsOfType(Syscall.class)) {
      assertThat(s.exitLineNo()).isGreaterThan(s.lineNo());
      assertThat(s.exitTimeNs()).isGreaterThanOrEqualTo(s.timeNs());
      assertThat(s.args()).hasSize(Syscall.ARITY.get(s.name()));
    }
    int grouped = 0;
    for (int pid : t.pids()) {
      List<TraceEvent> own = t.eventsOf(pid);
      assertThat(own).isNotEmpty().allMatch(e -> e.pid() == pid);
      assertThat(t.tidsOf(pid)).contains(own.get(0).tid());
      grouped += own.size();
    }
    assertThat(grouped).isEqualTo(t.events().size());
  }

  @Test
  void xzCountsMatchGrep() throws IOException {
    Trace t = TraceParser.parse(TraceFiles.recorded("xz-t2"), false);

    assertThat(t.lineCount()).isEqualTo(36427);
    assertThat(TraceFiles.kinds(t)).containsOnly(
        entry("Mmap2Record", 65L), entry("PageFault", 36238L + 5L), entry("Syscall", 59L));
    assertThat(TraceFiles.syscalls(t)).containsOnly(
        entry("brk", 3L), entry("mmap", 43L), entry("mprotect", 8L), entry("munmap", 5L));
    List<PageFault> faults = t.eventsOfType(PageFault.class);
    assertThat(faults.stream().filter(PageFault::user).count()).isEqualTo(36238);
    assertThat(faults.stream().filter(f -> f.user() && f.isWrite()).count()).isEqualTo(31953);
    assertThat(faults.stream().filter(f -> f.user() && f.isProtection()).count()).isEqualTo(4233);
    assertThat(faults.stream().filter(f -> f.user() && f.isInstructionFetch()).count()).isEqualTo(26);
    assertThat(t.eventsOfType(Mmap2Record.class).stream().filter(Mmap2Record::isAnonymous).count()).isEqualTo(27);
    assertThat(t.ignoredEvents()).containsOnly(entry("PERF_RECORD_MMAP", 1));

    assertThat(t.pids()).containsExactly(5032);
    assertThat(t.defaultPid()).isEqualTo(5032);
    assertThat(t.tidsOf(5032)).containsExactly(5032, 5034, 5035);
  }

  @Test
  void sortCountsMatchGrep() throws IOException {
    Trace t = TraceParser.parse(TraceFiles.recorded("sort-parallel"), false);

    assertThat(t.lineCount()).isEqualTo(30216);
    assertThat(TraceFiles.kinds(t)).containsOnly(
        entry("Mmap2Record", 45L), entry("PageFault", 12043L + 18039L), entry("Syscall", 44L));
    assertThat(TraceFiles.syscalls(t)).containsOnly(
        entry("brk", 3L), entry("madvise", 2L), entry("mmap", 27L), entry("mprotect", 5L), entry("munmap", 7L));
    List<PageFault> kernelFaults =
        t.eventsOfType(PageFault.class).stream().filter(f -> !f.user()).collect(Collectors.toList());
    assertThat(kernelFaults).hasSize(18039);
    assertThat(kernelFaults.stream().filter(f -> f.ip().equals("_copy_to_iter")).count()).isEqualTo(18035);

    assertThat(t.defaultPid()).isEqualTo(5184);
    assertThat(t.tidsOf(5184)).containsExactly(5184, 5190, 5191);
  }

  @Test
  void pyThreadsHasManyProcessesAndInterleavedSyscalls() throws IOException {
    Trace t = TraceParser.parse(TraceFiles.recorded("py-threads"), false);

    assertThat(t.lineCount()).isEqualTo(26070);
    assertThat(TraceFiles.kinds(t)).containsOnly(
        entry("Mmap2Record", 1674L), entry("PageFault", 21236L + 479L), entry("Syscall", 1340L));
    assertThat(TraceFiles.syscalls(t)).containsOnly(
        entry("brk", 138L), entry("madvise", 4L), entry("mmap", 964L), entry("mprotect", 172L), entry("munmap", 62L));
    // A pyenv shim: bash forks 40 short-lived children before python3 starts its threads in 4981.
    assertThat(t.pids()).hasSize(41).first().isEqualTo(4981);
    assertThat(t.defaultPid()).isEqualTo(4981);
    assertThat(t.tidsOf(4981)).containsExactly(4981, 5023, 5024, 5025, 5026);

    // Lines 15434-15439: munmap of tid 5024 and mmap of tid 5023 overlap in time.
    Syscall munmap = syscallAt(t, 15434);
    assertThat(munmap.name()).isEqualTo("munmap");
    assertThat(munmap.tid()).isEqualTo(5024);
    assertThat(munmap.exitLineNo()).isEqualTo(15436);
    assertThat(munmap.args()).containsExactly(entry("addr", 0x7f83d0000000L), entry("len", 0x04000000L));
    assertThat(munmap.ret()).isZero();
    Syscall mmap = syscallAt(t, 15435);
    assertThat(mmap.name()).isEqualTo("mmap");
    assertThat(mmap.tid()).isEqualTo(5023);
    assertThat(mmap.exitLineNo()).isEqualTo(15439);
    assertThat(mmap.ret()).isEqualTo(0x7f83d993f000L);
    assertThat(mmap.arg("len")).isEqualTo(0x101000L);
    assertThat(mmap.argInt("fd")).isEqualTo(-1);
    assertThat(mmap.failed()).isFalse();
  }

  @Test
  void vmaops2CountsTaskRecordsAndFailedCalls() throws IOException {
    Trace t = TraceParser.parse(TraceFiles.recorded("vmaops2-1001"), false);

    assertThat(t.lineCount()).isEqualTo(1115);
    assertThat(TraceFiles.kinds(t)).containsOnly(
        entry("CommRecord", 2L), entry("ExitRecord", 1L), entry("Mmap2Record", 103L),
        entry("PageFault", 569L + 3L), entry("Syscall", 218L));
    assertThat(TraceFiles.syscalls(t)).containsOnly(
        entry("brk", 13L), entry("madvise", 12L), entry("mlock", 5L), entry("mmap", 57L), entry("mprotect", 48L),
        entry("mremap", 41L), entry("munlock", 10L), entry("munmap", 32L));
    // grep -c 'sys_exit_.*0xffffffff'
    assertThat(t.eventsOfType(Syscall.class).stream().filter(Syscall::failed).count()).isEqualTo(87);
    assertThat(t.pids()).containsExactly(22469);
    assertThat(t.defaultPid()).isEqualTo(22469);

    CommRecord perfExec = (CommRecord) t.events().get(0);
    assertThat(perfExec.lineNo()).isEqualTo(2);
    assertThat(perfExec.comm()).isEqualTo("perf-exec");
    assertThat(perfExec.newComm()).isEqualTo("perf-exec");
    assertThat(perfExec.exec()).isFalse();
    assertThat(perfExec.pid()).isEqualTo(22469); // the record's task, not the header's 0/0
    assertThat(perfExec.timeNs()).isZero();
    CommRecord exec = (CommRecord) t.events().get(1);
    assertThat(exec.exec()).isTrue();
    assertThat(exec.newComm()).isEqualTo("vmaops2");
    assertThat(exec.timeNs()).isEqualTo(1_841_746_052_000L);
    ExitRecord exit = (ExitRecord) t.events().get(t.events().size() - 1);
    assertThat(exit.lineNo()).isEqualTo(1115);
    assertThat(List.of(exit.pid(), exit.tid(), exit.ppid(), exit.ptid())).containsExactly(22469, 22469, 22468, 22468);

    // 112: mmap(MAP_FIXED_NOREPLACE|MAP_ANONYMOUS|MAP_PRIVATE) over a mapping -> 0xffffffffffffffef = -EEXIST
    Syscall noreplace = syscallAt(t, 112);
    assertThat(noreplace.arg("flags")).isEqualTo(0x100022L);
    assertThat(noreplace.exitLineNo()).isEqualTo(113);
    assertThat(noreplace.ret()).isEqualTo(-17);
    assertThat(noreplace.failed()).isTrue();
    assertThat(noreplace.errno()).isEqualTo(17);
    // 159: mremap(MREMAP_MAYMOVE|MREMAP_FIXED) -> -EFAULT
    Syscall mremap = syscallAt(t, 159);
    assertThat(mremap.args().keySet()).containsExactly("addr", "old_len", "new_len", "flags", "new_addr");
    assertThat(mremap.arg("new_addr")).isEqualTo(0x7f93a7922000L);
    assertThat(mremap.ret()).isEqualTo(-14);
    // 482/483: mlock -> -ENOMEM
    Syscall mlock = syscallAt(t, 482);
    assertThat(mlock.name()).isEqualTo("mlock");
    assertThat(mlock.args().keySet()).containsExactly("start", "len");
    assertThat(mlock.errno()).isEqualTo(12);

    Mmap2Record devZero = mmap2At(t, 282);
    assertThat(devZero.start()).isEqualTo(0x7f93a7820000L);
    assertThat(devZero.len()).isEqualTo(0x5000L);
    assertThat(devZero.end()).isEqualTo(0x7f93a7825000L);
    assertThat(devZero.pgoff()).isZero();
    assertThat(List.of(devZero.maj(), devZero.min())).containsExactly(0, 1);
    assertThat(devZero.ino()).isEqualTo(2140);
    assertThat(devZero.inoGeneration()).isEqualTo(4119872787L);
    assertThat(devZero.prot()).isEqualTo("r-xs");
    assertThat(devZero.isShared()).isTrue();
    assertThat(devZero.isExecutable()).isTrue();
    assertThat(devZero.isWritable()).isFalse();
    assertThat(devZero.path()).isEqualTo("/dev/zero (deleted)");
  }

  @Test
  void firstLinesOfXzInDetail() throws IOException {
    Trace t = TraceParser.parse(TraceFiles.recorded("xz-t2"), false);

    Mmap2Record stack = mmap2At(t, 2);
    assertThat(stack.comm()).isEqualTo("xz");
    assertThat(stack.timeNs()).isEqualTo(330_857_423_000L);
    assertThat(stack.start()).isEqualTo(0x7fff6da71000L);
    assertThat(stack.len()).isEqualTo(0x21000L);
    assertThat(stack.pgoff()).isEqualTo(0x7ffffffde000L);
    assertThat(stack.path()).isEqualTo("[stack]");
    assertThat(stack.prot()).isEqualTo("rw-p");
    Mmap2Record text = mmap2At(t, 3);
    assertThat(text.maj()).isEqualTo(0xfe);
    assertThat(text.ino()).isEqualTo(261095);
    assertThat(text.pgoff()).isZero();
    assertThat(text.path()).isEqualTo("/usr/bin/xz");

    PageFault kernel = (PageFault) eventAt(t, 7);
    assertThat(kernel.user()).isFalse();
    assertThat(kernel.ip()).isEqualTo("elf_load");
    assertThat(kernel.address()).isEqualTo(0x55ef0523a240L);
    assertThat(kernel.errorCode()).isEqualTo(2);
    assertThat(kernel.isWrite()).isTrue();
    assertThat(kernel.isProtection()).isFalse();
  }

  @Test
  void sharedTracesParseWellUnderASecond() throws IOException {
    for (String name : TraceFiles.SHARED) {
      TraceParser.parse(TraceFiles.recorded(name), false); // warm-up
    }
    for (String name : TraceFiles.SHARED) {
      long start = System.nanoTime();
      Trace t = TraceParser.parse(TraceFiles.recorded(name), false);
      long millis = (System.nanoTime() - start) / 1_000_000;
      assertThat(t.events()).isNotEmpty();
      // Typically 30-60 ms once warm; the bound leaves room for a loaded CI machine.
      assertThat(millis).as("ms to parse %s", name).isLessThan(1000);
    }
  }

  private static TraceEvent eventAt(Trace t, int lineNo) {
    return t.events().stream().filter(e -> e.lineNo() == lineNo).findFirst()
        .orElseThrow(() -> new AssertionError("no event at line " + lineNo));
  }

  private static Syscall syscallAt(Trace t, int lineNo) {
    return (Syscall) eventAt(t, lineNo);
  }

  private static Mmap2Record mmap2At(Trace t, int lineNo) {
    return (Mmap2Record) eventAt(t, lineNo);
  }
}
