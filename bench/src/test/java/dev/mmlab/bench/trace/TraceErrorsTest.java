package dev.mmlab.bench.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Malformed, truncated and inconsistent input, in strict and lenient mode. */
class TraceErrorsTest {
  private static final String MMAP_ENTER = "  a 7/7 1.000010: syscalls:sys_enter_mmap: addr: 0x00000000,"
      + " len: 0x00002000, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000\n";
  private static final String MMAP_EXIT = "  a 7/7 1.000012: syscalls:sys_exit_mmap: 0x7f0000000000\n";
  private static final String FAULT =
      "  a 7/7 1.000020: exceptions:page_fault_user: address=0x7f0000000008 ip=0x401000 error_code=0x6\n";

  private static Trace parse(String text, boolean lenient) throws IOException {
    return TraceParser.parse(new StringReader(text), "t.txt", lenient);
  }

  private static TraceFormatException strictError(String text) {
    return assertThrows(TraceFormatException.class, () -> parse(text, false));
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "not a perf line|garbage|not a perf script line",
        "bad pid|  a 7/x 1.000001: exceptions:page_fault_user: address=0x1 ip=0x2 error_code=0x6|not a perf script line",
        "no event|  a 7/7 1.000001: nothing-here|no event name",
        "fault fields|  a 7/7 1.000001: exceptions:page_fault_user: address=0x1 error_code=0x6|malformed page fault",
        "fault hex|  a 7/7 1.000001: exceptions:page_fault_user: address=0xZZ ip=0x2 error_code=0x6|address is not",
        "hex too long|  a 7/7 1.000001: exceptions:page_fault_user: address=0x11112222333344445 ip=0x2 error_code=0x6"
            + "|address is not a 64-bit hex number",
        "mmap2 no prot|  a 7/7 1.000001: PERF_RECORD_MMAP2 7/7: [0x1000(0x1000) @ 0 00:00 0 0]: //anon"
            + "|malformed PERF_RECORD_MMAP2",
        "mmap2 build id|  a 7/7 1.000001: PERF_RECORD_MMAP2 7/7: [0x1000(0x1000) @ 0 <1234abcd>]: r-xp /bin/x"
            + "|malformed PERF_RECORD_MMAP2",
        "comm|  a 7/7 1.000001: PERF_RECORD_COMM exec: nopid|malformed PERF_RECORD_COMM",
        "fork|  a 7/7 1.000001: PERF_RECORD_FORK(7:8)|malformed PERF_RECORD_FORK",
        "args cut|  a 7/7 1.000001: syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00002000|has 2 arguments",
        "arg value|  a 7/7 1.000001: syscalls:sys_enter_munmap: addr: 0x1000, len: 4096|argument len of sys_enter_munmap",
        "arg twice|  a 7/7 1.000001: syscalls:sys_enter_munmap: addr: 0x1000, addr: 0x1000|appears twice",
        "exit value|  a 7/7 1.000001: syscalls:sys_exit_munmap: -12|return value of sys_exit_munmap",
        "pid overflow|  a 7/99999999999 1.000001: exceptions:page_fault_user: address=0x1 ip=0x2 error_code=0x6"
            + "|number out of range",
      })
  void malformedLineNamesFileAndLine(String what, String badLine, String expected) {
    TraceFormatException e = strictError(FAULT + FAULT + badLine + "\n" + FAULT);

    assertThat(e).as(what).isNotNull();
    assertThat(e.file()).isEqualTo("t.txt");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.getMessage()).startsWith("t.txt:3: ").contains(expected);
    assertThat(e.reason()).contains(expected);
  }

  @Test
  void lenientSkipsAndCountsBadLines() throws IOException {
    Trace t = parse(FAULT + "garbage\n" + MMAP_ENTER + MMAP_EXIT + "  a 7/7 1.3: PERF_RECORD_FORK(7)\n" + FAULT, true);

    assertThat(t.events()).hasSize(3);
    assertThat(t.eventsOfType(Syscall.class)).hasSize(1);
    assertThat(t.skippedLines()).isEqualTo(2);
    assertThat(t.errorCount()).isEqualTo(2);
    assertThat(t.errors()).hasSize(2);
    assertThat(t.errors().get(0)).startsWith("t.txt:2: not a perf script line");
    assertThat(t.errors().get(1)).startsWith("t.txt:5: malformed PERF_RECORD_FORK");
    assertThat(t.lineCount()).isEqualTo(6);
  }

  @Test
  void lenientKeepsOnlyTheFirstFewMessages() throws IOException {
    Trace t = parse(FAULT + "junk\n".repeat(25) + FAULT, true);

    assertThat(t.events()).hasSize(2);
    assertThat(t.skippedLines()).isEqualTo(25);
    assertThat(t.errors()).hasSize(TraceParser.MAX_KEPT_ERRORS);
    assertThat(t.errors().get(9)).startsWith("t.txt:11: ");
  }

  @Test
  void unknownEventsAreIgnoredNotErrors() throws IOException {
    Trace t = parse(FAULT
        + "  a 7/7 1.000030: syscalls:sys_enter_read: fd: 0x00000003, buf: 0x7ffd0000, count: 0x00001000\n"
        + "  a 7/7 1.000031: syscalls:sys_exit_read: 0x1000\n"
        + "  a 7/7 1.000032: PERF_RECORD_LOST_SAMPLES: lost 3\n"
        + "  a 7/7 1.000033: cycles:u: \n"
        + "\n"
        + "# a comment\n"
        + FAULT, false);

    assertThat(t.events()).hasSize(2);
    assertThat(t.ignoredEvents()).containsExactly(
        entry("syscalls:sys_enter_read", 1), entry("syscalls:sys_exit_read", 1),
        entry("PERF_RECORD_LOST_SAMPLES", 1), entry("cycles:u", 1));
    assertThat(t.lineCount()).isEqualTo(8);
  }

  @Test
  void enterWithoutExitAtEnd() throws IOException {
    String text = FAULT + MMAP_ENTER + FAULT;
    TraceFormatException e = strictError(text);
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.reason()).contains("sys_enter_mmap of tid 7 has no sys_exit_mmap before the end");

    Trace t = parse(text, true);
    assertThat(t.events()).hasSize(2).allMatch(ev -> ev instanceof PageFault);
    assertThat(t.skippedLines()).isEqualTo(1);
  }

  @Test
  void exitWithoutEnter() throws IOException {
    String text = FAULT + MMAP_EXIT + FAULT;
    assertThat(strictError(text).getMessage())
        .isEqualTo("t.txt:2: sys_exit_mmap of tid 7 has no sys_enter_mmap before it");
    assertThat(parse(text, true).skippedLines()).isEqualTo(1);
  }

  @Test
  void secondEnterBeforeExit() throws IOException {
    String text = MMAP_ENTER + MMAP_ENTER + MMAP_EXIT;
    TraceFormatException e = strictError(text);
    assertThat(e.line()).isEqualTo(1);
    assertThat(e.reason()).contains("next syscall is sys_enter_mmap at line 2");

    Trace t = parse(text, true);
    assertThat(t.eventsOfType(Syscall.class)).singleElement()
        .satisfies(s -> assertThat(s.lineNo()).isEqualTo(2));
    assertThat(t.skippedLines()).isEqualTo(1);
  }

  @Test
  void exitOfAnotherSyscall() throws IOException {
    String text = MMAP_ENTER + "  a 7/7 1.000012: syscalls:sys_exit_munmap: 0x0\n" + FAULT;
    TraceFormatException e = strictError(text);
    assertThat(e.line()).isEqualTo(1);
    assertThat(e.reason()).contains("next syscall is sys_exit_munmap at line 2");

    Trace t = parse(text, true);
    assertThat(t.events()).hasSize(1);
    assertThat(t.skippedLines()).isEqualTo(2);
    assertThat(t.errors().get(1)).startsWith("t.txt:2: sys_exit_munmap of tid 7 has no sys_enter_munmap");
  }

  @Test
  void otherThreadsDoNotBreakPairing() throws IOException {
    String text = MMAP_ENTER
        + "  a 7/8 1.000011: syscalls:sys_enter_munmap: addr: 0x7f0000100000, len: 0x00001000\n"
        + MMAP_EXIT
        + "  a 7/8 1.000013: syscalls:sys_exit_munmap: 0xfffffffffffffff4\n";
    List<Syscall> calls = parse(text, false).eventsOfType(Syscall.class);
    assertThat(calls).extracting(Syscall::name).containsExactly("mmap", "munmap");
    assertThat(calls).extracting(Syscall::exitLineNo).containsExactly(3, 4);
    assertThat(calls.get(1).ret()).isEqualTo(-12);
  }

  @Test
  void lineCutShortIsAnErrorEvenIfItParses() throws IOException {
    // The last line parses (address 0x7f00000000) but has lost its newline, and its tail with it.
    String text = FAULT + "  a 7/7 1.000020: exceptions:page_fault_user: address=0x7f00000000 ip=0x401000 error_code=0x6";
    TraceFormatException e = strictError(text);
    assertThat(e.line()).isEqualTo(2);
    assertThat(e.reason()).contains("ends in the middle of this line");

    Trace t = parse(text, true);
    assertThat(t.events()).hasSize(1);
    assertThat(t.skippedLines()).isEqualTo(1);
    assertThat(t.lineCount()).isEqualTo(2);
  }

  @Test
  void crLfLinesAreAccepted() throws IOException {
    Trace t = parse(FAULT.replace("\n", "\r\n") + MMAP_ENTER.replace("\n", "\r\n") + MMAP_EXIT.replace("\n", "\r\n"),
        false);
    assertThat(t.events()).hasSize(2);
  }

  @Test
  void gzipIsDetectedByMagicNotByName(@TempDir Path dir) throws IOException {
    byte[] plain = (FAULT + MMAP_ENTER + MMAP_EXIT).getBytes(StandardCharsets.UTF_8);
    Path gzNamedTxt = dir.resolve("trace.txt");
    Files.write(gzNamedTxt, TraceFiles.gzip(plain));
    Path txtNamedGz = dir.resolve("trace.txt.gz");
    Files.write(txtNamedGz, plain);

    Trace a = TraceParser.parse(gzNamedTxt, false);
    Trace b = TraceParser.parse(txtNamedGz, false);
    assertThat(a.events()).hasSize(2).isEqualTo(b.events());
    assertThat(a.source()).isEqualTo(gzNamedTxt.toString());
  }

  @Test
  void truncatedGzipOfARealTrace(@TempDir Path dir) throws IOException {
    Path full = TraceFiles.recorded("xz-t2");
    byte[] gz = TraceFiles.read(full);
    Path cut = dir.resolve("xz-cut.perf.txt.gz");
    Files.write(cut, Arrays.copyOf(gz, gz.length / 2));
    // Independently: how many complete lines survive the cut.
    int completeLines = countNewlines(gunzipUntilError(Arrays.copyOf(gz, gz.length / 2)));

    TraceFormatException e = assertThrows(TraceFormatException.class, () -> TraceParser.parse(cut, false));
    assertThat(e).isNotNull();
    assertThat(e.file()).isEqualTo(cut.toString());
    assertThat(e.line()).isEqualTo(completeLines + 1);
    assertThat(e.reason()).contains("gzip stream ends early");

    Trace partial = TraceParser.parse(cut, true);
    assertThat(partial.errors().get(0)).startsWith(cut + ":" + (completeLines + 1) + ": the gzip stream ends early");
    assertThat(partial.errorCount()).isGreaterThanOrEqualTo(1);
    // What survives is exactly the full trace's events whose lines all survived.
    List<TraceEvent> expected = TraceParser.parse(full, false).events().stream()
        .filter(ev -> lastLine(ev) <= completeLines)
        .collect(Collectors.toList());
    assertThat(partial.events()).hasSizeGreaterThan(1000).isEqualTo(expected);
  }

  @Test
  void gzipCutAtALineBoundary() throws IOException {
    byte[] gz = TraceFiles.gzip((FAULT + FAULT).getBytes(StandardCharsets.UTF_8));
    byte[] noTrailer = Arrays.copyOf(gz, gz.length - 8); // deflate data complete, CRC32 and ISIZE gone
    TraceFormatException e = assertThrows(TraceFormatException.class, () -> TraceParser.parse(new ByteArrayInputStream(noTrailer), "x.gz", false));
    assertThat(e.getMessage()).startsWith("x.gz:3: the gzip stream ends early");

    Trace t = TraceParser.parse(new ByteArrayInputStream(noTrailer), "x.gz", true);
    assertThat(t.events()).hasSize(2);
    assertThat(t.errorCount()).isEqualTo(1);
    assertThat(t.skippedLines()).isZero();
  }

  @Test
  void gzipHeaderOnly() throws IOException {
    byte[] gz = TraceFiles.gzip(FAULT.getBytes(StandardCharsets.UTF_8));
    Trace t = TraceParser.parse(new ByteArrayInputStream(Arrays.copyOf(gz, 4)), "x.gz", true);
    assertThat(t.events()).isEmpty();
    assertThat(t.errors()).containsExactly("x.gz:1: the gzip stream ends early: the file was cut short");
  }

  @Test
  void corruptGzipTrailer() {
    byte[] gz = TraceFiles.gzip(FAULT.getBytes(StandardCharsets.UTF_8));
    gz[gz.length - 8] ^= 0x5a; // CRC32
    assertThatThrownBy(() -> TraceParser.parse(new ByteArrayInputStream(gz), "x.gz", false))
        .isInstanceOf(TraceFormatException.class)
        .hasMessageStartingWith("x.gz:2: the gzip data is corrupt");
  }

  private static int lastLine(TraceEvent e) {
    return e instanceof Syscall ? ((Syscall) e).exitLineNo() : e.lineNo();
  }

  private static byte[] gunzipUntilError(byte[] gz) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      byte[] buf = new byte[4096];
      for (int n; (n = in.read(buf)) > 0; ) {
        out.write(buf, 0, n);
      }
    } catch (EOFException expected) {
      // the cut
    }
    return out.toByteArray();
  }

  private static int countNewlines(byte[] text) {
    int n = 0;
    for (byte b : text) {
      if (b == '\n') {
        n++;
      }
    }
    return n;
  }
}
