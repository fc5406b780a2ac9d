package dev.mmlab.bench.trace;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads the text of {@code perf script --show-mmap-events --show-task-events -F comm,pid,tid,time,event,trace}
 * (see the {@linkplain dev.mmlab.bench.trace package documentation}) into a {@link Trace}.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Nothing is shared: the static methods keep all state in the call, so they
 *       may run concurrently.</li>
 *   <li><b>Lock order.</b> none: takes no lock.</li>
 *   <li><b>Strict and lenient.</b> Strict mode throws a {@link TraceFormatException} for the first bad line.
 *       Lenient mode skips it, counts it ({@link Trace#skippedLines()}) and keeps the first few messages
 *       ({@link Trace#errors()}). Either way every message reads {@code FILE:LINE: what is wrong}.</li>
 *   <li><b>Bad lines.</b> A bad line is: one that does not parse; the last line when the file does not end with
 *       a newline (a trace cut mid-line parses "fine" half the time, so it is never trusted); a syscall enter
 *       whose thread's next syscall line is not its exit, or that has no exit before the end; an exit without
 *       its enter. A gzip stream that ends early or is corrupt ends the trace with an error at the line where
 *       it broke. Blank lines and lines starting with {@code #} are skipped silently.</li>
 *   <li><b>Events we do not model</b> (other tracepoints, other syscalls, {@code PERF_RECORD_MMAP} of the
 *       kernel image, other side-band records) are not errors: they are counted in
 *       {@link Trace#ignoredEvents()}.</li>
 *   <li><b>Pairing.</b> Enter and exit are paired per thread id: perf prints the threads of a process
 *       interleaved, and a thread is in at most one syscall at a time. The paired {@link Syscall} takes the
 *       enter's place in file order.</li>
 *   <li><b>Gzip</b> is recognised by its magic bytes {@code 1f 8b}, never by the file name.</li>
 * </ul>
 */
public final class TraceParser {
  /** How many error messages a lenient parse keeps for its report. */
  public static final int MAX_KEPT_ERRORS = 10;

  private static final Pattern MMAP2 =
      Pattern.compile(
          "PERF_RECORD_MMAP2 (-?\\d+)/(-?\\d+): \\[(0x[0-9a-f]+|0)\\((0x[0-9a-f]+|0)\\) @ (0x[0-9a-f]+|0)"
              + " ([0-9a-f]+):([0-9a-f]+) (\\d+) (\\d+)\\]: ([r-][w-][x-][sp]) (.+)");
  private static final Pattern COMM = Pattern.compile("PERF_RECORD_COMM( exec)?: (.*):(-?\\d+)/(-?\\d+)");
  private static final Pattern TASK =
      Pattern.compile("PERF_RECORD_(FORK|EXIT)\\((-?\\d+):(-?\\d+)\\):\\((-?\\d+):(-?\\d+)\\)");

  private static final String SYS_ENTER = "syscalls:sys_enter_";
  private static final String SYS_EXIT = "syscalls:sys_exit_";
  private static final String FAULT_USER = "exceptions:page_fault_user";
  private static final String FAULT_KERNEL = "exceptions:page_fault_kernel";
  private static final Map<String, MmapLockEvent.Kind> MMAP_LOCK = Map.of(
      "mmap_lock:mmap_lock_start_locking", MmapLockEvent.Kind.START,
      "mmap_lock:mmap_lock_acquire_returned", MmapLockEvent.Kind.ACQUIRED,
      "mmap_lock:mmap_lock_released", MmapLockEvent.Kind.RELEASED);

  private TraceParser() {}

  /**
   * Parses a trace file, plain text or gzip.
   *
   * @param lenient skip and count bad lines instead of throwing
   * @throws TraceFormatException in strict mode, for the first bad line
   * @throws IOException if the file cannot be read
   */
  public static Trace parse(Path file, boolean lenient) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return parse(in, file.toString(), lenient);
    }
  }

  /**
   * Parses a trace from a byte stream, plain text (UTF-8) or gzip. Does not close {@code in}.
   *
   * @param sourceName the name error messages give the input
   * @throws TraceFormatException in strict mode, for the first bad line
   */
  public static Trace parse(InputStream in, String sourceName, boolean lenient) throws IOException {
    BufferedInputStream buffered = new BufferedInputStream(in, 1 << 16);
    buffered.mark(2);
    int b0 = buffered.read();
    int b1 = buffered.read();
    buffered.reset();
    GunzipGuard gunzip = null;
    InputStream text = buffered;
    if (b0 == 0x1f && b1 == 0x8b) {
      gunzip = new GunzipGuard(buffered);
      text = gunzip;
    }
    Reader reader = new InputStreamReader(text, StandardCharsets.UTF_8);
    return new Run(sourceName, lenient, gunzip).parse(reader);
  }

  /**
   * Parses a trace from text. Does not close {@code reader}.
   *
   * @param sourceName the name error messages give the input
   * @throws TraceFormatException in strict mode, for the first bad line
   */
  public static Trace parse(Reader reader, String sourceName, boolean lenient) throws IOException {
    return new Run(sourceName, lenient, null).parse(reader);
  }

  /** One parse: the state that pairs syscalls and collects errors. */
  private static final class Run {
    private final String source;
    private final boolean lenient;
    private final GunzipGuard gunzip;

    /** Events in file order; a pending enter holds a null slot until its exit arrives. */
    private final List<TraceEvent> slots = new ArrayList<>();
    private final Map<Integer, PendingEnter> pendingByTid = new HashMap<>();
    private final Map<String, Integer> ignored = new LinkedHashMap<>();
    private final List<String> errors = new ArrayList<>();
    private final Header header = new Header();
    private int errorCount;
    private int skippedLines;
    private int lineCount;

    Run(String source, boolean lenient, GunzipGuard gunzip) {
      this.source = Objects.requireNonNull(source, "sourceName");
      this.lenient = lenient;
      this.gunzip = gunzip;
    }

    Trace parse(Reader reader) throws IOException {
      LineReader lines = new LineReader(reader);
      boolean streamErrorReported = false;
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        int lineNo = ++lineCount;
        if (!lines.lastLineTerminated()) {
          // The stream ended inside this line: never trust it, however well it parses.
          if (gunzip != null && gunzip.failure != null) {
            error(lineNo, gunzipFailure() + ", in the middle of this line", true);
            streamErrorReported = true;
          } else {
            error(lineNo, "the file ends in the middle of this line (no newline): the trace was cut short", true);
          }
          break;
        }
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        try {
          parseLine(lineNo, line);
        } catch (LineError e) {
          error(lineNo, e.getMessage(), true);
        } catch (NumberFormatException | ArithmeticException e) {
          error(lineNo, "number out of range: " + e.getMessage(), true);
        }
      }
      if (gunzip != null && gunzip.failure != null && !streamErrorReported) {
        error(lineCount + 1, gunzipFailure(), false);
      }
      List<PendingEnter> unpaired = new ArrayList<>(pendingByTid.values());
      unpaired.sort((a, b) -> Integer.compare(a.lineNo, b.lineNo));
      for (PendingEnter p : unpaired) {
        error(p.lineNo, "sys_enter_" + p.name + " of tid " + p.tid + " has no sys_exit_" + p.name
            + " before the end of the trace (trace cut short?)", true);
      }
      List<TraceEvent> events = new ArrayList<>(slots.size());
      for (TraceEvent e : slots) {
        if (e != null) {
          events.add(e);
        }
      }
      return new Trace(source, lineCount, events, ignored, skippedLines, errorCount, errors);
    }

    private String gunzipFailure() {
      IOException f = gunzip.failure;
      return f instanceof EOFException
          ? "the gzip stream ends early: the file was cut short"
          : "the gzip data is corrupt (" + f.getMessage() + ")";
    }

    private void error(int lineNo, String reason, boolean skipsLine) throws TraceFormatException {
      TraceFormatException e = new TraceFormatException(source, lineNo, reason);
      if (!lenient) {
        throw e;
      }
      errorCount++;
      if (skipsLine) {
        skippedLines++;
      }
      if (errors.size() < MAX_KEPT_ERRORS) {
        errors.add(e.getMessage());
      }
    }

    private void ignore(String eventName) {
      ignored.merge(eventName, 1, Integer::sum);
    }

    private void parseLine(int lineNo, String line) throws LineError, TraceFormatException {
      if (!header.parse(line)) {
        throw new LineError("not a perf script line: expected 'COMM PID/TID SECONDS.FRACTION: EVENT'");
      }
      String comm = header.comm;
      int pid = header.pid;
      int tid = header.tid;
      long timeNs = header.timeNs;
      String body = header.body;

      if (body.startsWith("PERF_RECORD_")) {
        parseRecord(lineNo, comm, timeNs, body);
        return;
      }
      String name;
      String rest;
      int sep = body.indexOf(": ");
      if (sep > 0) {
        name = body.substring(0, sep);
        rest = body.substring(sep + 2);
      } else if (body.endsWith(":") && body.length() > 1) {
        name = body.substring(0, body.length() - 1);
        rest = "";
      } else {
        throw new LineError("no event name: expected 'EVENT: FIELDS' after the timestamp, found '" + body + "'");
      }

      if (name.startsWith(SYS_ENTER)) {
        String sc = name.substring(SYS_ENTER.length());
        if (Syscall.TRACED.contains(sc)) {
          enter(new PendingEnter(lineNo, comm, pid, tid, timeNs, sc, syscallArgs(sc, rest)));
          return;
        }
      } else if (name.startsWith(SYS_EXIT)) {
        String sc = name.substring(SYS_EXIT.length());
        if (Syscall.TRACED.contains(sc)) {
          exit(lineNo, tid, timeNs, sc, hexField(rest.strip(), "return value of sys_exit_" + sc));
          return;
        }
      } else if (name.equals(FAULT_USER) || name.equals(FAULT_KERNEL)) {
        slots.add(pageFault(lineNo, comm, pid, tid, timeNs, name.equals(FAULT_USER), rest));
        return;
      } else if (MMAP_LOCK.containsKey(name)) {
        slots.add(mmapLock(lineNo, comm, pid, tid, timeNs, MMAP_LOCK.get(name), rest));
        return;
      }
      ignore(name);
    }

    private void parseRecord(int lineNo, String comm, long timeNs, String body) throws LineError {
      if (body.startsWith("PERF_RECORD_MMAP2")) {
        Matcher m = MMAP2.matcher(body);
        if (!m.matches()) {
          throw new LineError("malformed PERF_RECORD_MMAP2: expected"
              + " 'PERF_RECORD_MMAP2 PID/TID: [START(LEN) @ PGOFF MAJ:MIN INO INO_GENERATION]: PROT PATH'");
        }
        int pid = Integer.parseInt(m.group(1));
        if (pid == -1) {
          ignore("PERF_RECORD_MMAP2"); // a kernel module, not a process mapping
          return;
        }
        slots.add(new Mmap2Record(lineNo, comm, pid, Integer.parseInt(m.group(2)), timeNs,
            hexField(m.group(3), "start"), hexField(m.group(4), "len"), hexField(m.group(5), "pgoff"),
            Integer.parseInt(m.group(6), 16), Integer.parseInt(m.group(7), 16),
            Long.parseUnsignedLong(m.group(8)), Long.parseUnsignedLong(m.group(9)),
            m.group(10), m.group(11)));
      } else if (body.startsWith("PERF_RECORD_COMM")) {
        Matcher m = COMM.matcher(body);
        if (!m.matches()) {
          throw new LineError("malformed PERF_RECORD_COMM: expected 'PERF_RECORD_COMM[ exec]: COMM:PID/TID'");
        }
        slots.add(new CommRecord(lineNo, comm, Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)),
            timeNs, m.group(2), m.group(1) != null));
      } else if (body.startsWith("PERF_RECORD_FORK") || body.startsWith("PERF_RECORD_EXIT")) {
        Matcher m = TASK.matcher(body);
        if (!m.matches()) {
          throw new LineError("malformed " + body.substring(0, "PERF_RECORD_FORK".length())
              + ": expected '(PID:TID):(PPID:PTID)'");
        }
        int pid = Integer.parseInt(m.group(2));
        int tid = Integer.parseInt(m.group(3));
        int ppid = Integer.parseInt(m.group(4));
        int ptid = Integer.parseInt(m.group(5));
        slots.add(m.group(1).equals("FORK")
            ? new ForkRecord(lineNo, comm, pid, tid, timeNs, ppid, ptid)
            : new ExitRecord(lineNo, comm, pid, tid, timeNs, ppid, ptid));
      } else {
        int end = "PERF_RECORD_".length();
        while (end < body.length() && isRecordNameChar(body.charAt(end))) {
          end++;
        }
        ignore(body.substring(0, end));
      }
    }

    private void enter(PendingEnter e) throws TraceFormatException {
      PendingEnter previous = pendingByTid.put(e.tid, e);
      if (previous != null) {
        error(previous.lineNo, "sys_enter_" + previous.name + " of tid " + previous.tid + " has no sys_exit_"
            + previous.name + ": the thread's next syscall is sys_enter_" + e.name + " at line " + e.lineNo, true);
      }
      e.slot = slots.size();
      slots.add(null);
    }

    private void exit(int lineNo, int tid, long timeNs, String name, long ret) throws TraceFormatException {
      PendingEnter e = pendingByTid.get(tid);
      if (e != null && e.name.equals(name)) {
        pendingByTid.remove(tid);
        slots.set(e.slot, new Syscall(e.lineNo, e.comm, e.pid, e.tid, e.timeNs, e.name, e.args, ret, lineNo, timeNs));
        return;
      }
      if (e != null) {
        pendingByTid.remove(tid);
        error(e.lineNo, "sys_enter_" + e.name + " of tid " + tid + " has no sys_exit_" + e.name
            + ": the thread's next syscall is sys_exit_" + name + " at line " + lineNo, true);
      }
      error(lineNo, "sys_exit_" + name + " of tid " + tid + " has no sys_enter_" + name + " before it", true);
    }

    private static PageFault pageFault(int lineNo, String comm, int pid, int tid, long timeNs, boolean user,
        String rest) throws LineError {
      // address=0x7f7c8a403e06 ip=0x7f7c8a3eb7ad error_code=0x6
      String[] fields = rest.strip().split(" ");
      if (fields.length != 3 || !fields[0].startsWith("address=") || !fields[1].startsWith("ip=")
          || !fields[2].startsWith("error_code=") || fields[1].length() == "ip=".length()) {
        throw new LineError("malformed page fault: expected 'address=0x... ip=... error_code=0x...', found '"
            + rest + "'");
      }
      long address = hexField(fields[0].substring("address=".length()), "address");
      long errorCode = hexField(fields[2].substring("error_code=".length()), "error_code");
      return new PageFault(lineNo, comm, pid, tid, timeNs, address, errorCode, user,
          fields[1].substring("ip=".length()));
    }

    /**
     * {@code mm=0xffff88811801d780 memcg_id=4193 write=true[ success=true]}. The memcg field (an id, or a path on
     * older kernels, possibly empty) is not needed and not parsed, so only {@code mm=} first and the booleans
     * last are looked for.
     */
    private static MmapLockEvent mmapLock(int lineNo, String comm, int pid, int tid, long timeNs,
        MmapLockEvent.Kind kind, String rest) throws LineError {
      String text = rest.strip();
      String expected = kind == MmapLockEvent.Kind.ACQUIRED ? "'mm=0x... ... write=BOOL success=BOOL'"
          : "'mm=0x... ... write=BOOL'";
      int mmEnd = text.indexOf(' ');
      if (!text.startsWith("mm=") || mmEnd < 0) {
        throw new LineError("malformed mmap_lock event: expected " + expected + ", found '" + rest + "'");
      }
      long mm = hexField(text.substring("mm=".length(), mmEnd), "mm");
      boolean success = true;
      if (kind == MmapLockEvent.Kind.ACQUIRED) {
        int at = text.lastIndexOf(" success=");
        if (at < 0) {
          throw new LineError("malformed mmap_lock event: expected " + expected + ", found '" + rest + "'");
        }
        success = booleanField(text.substring(at + " success=".length()), "success");
        text = text.substring(0, at);
      }
      int at = text.lastIndexOf(" write=");
      if (at < 0) {
        throw new LineError("malformed mmap_lock event: expected " + expected + ", found '" + rest + "'");
      }
      boolean write = booleanField(text.substring(at + " write=".length()), "write");
      return new MmapLockEvent(lineNo, comm, pid, tid, timeNs, kind, mm, write, success);
    }

    private static boolean booleanField(String text, String what) throws LineError {
      return switch (text) {
        case "true" -> true;
        case "false" -> false;
        default -> throw new LineError(what + " is not true or false: '" + text + "'");
      };
    }

    /** {@code addr: 0x00000000, len: 0x00002000, ...} in printed order. */
    private static Map<String, Long> syscallArgs(String sc, String rest) throws LineError {
      Map<String, Long> args = new LinkedHashMap<>();
      String text = rest.strip();
      if (!text.isEmpty()) {
        for (String part : text.split(", ", -1)) {
          int colon = part.indexOf(": ");
          if (colon <= 0 || !isArgName(part, colon)) {
            throw new LineError("malformed argument '" + part + "' of sys_enter_" + sc + ": expected 'NAME: 0xHEX'");
          }
          String argName = part.substring(0, colon);
          long value = hexField(part.substring(colon + 2), "argument " + argName + " of sys_enter_" + sc);
          if (args.put(argName, value) != null) {
            throw new LineError("argument " + argName + " of sys_enter_" + sc + " appears twice");
          }
        }
      }
      int arity = Syscall.ARITY.get(sc);
      if (args.size() != arity) {
        throw new LineError("sys_enter_" + sc + " has " + args.size() + " arguments " + args.keySet()
            + ", expected " + arity + " (line cut short?)");
      }
      return args;
    }

    private static boolean isArgName(String s, int end) {
      for (int i = 0; i < end; i++) {
        char c = s.charAt(i);
        if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')) {
          return false;
        }
      }
      return true;
    }

    private static boolean isRecordNameChar(char c) {
      return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_';
    }
  }

  /**
   * The sample header {@code COMM PID/TID SECONDS.FRACTION:}, found by scanning for its first
   * {@code PID/TID} token that is followed by a timestamp: a comm may contain spaces, digits or slashes
   * ({@code kworker/0:1}), so the line cannot simply be split on whitespace. Hand-written rather than a
   * regular expression because it runs for every line. Reused from line to line.
   */
  static final class Header {
    String comm;
    int pid;
    int tid;
    long timeNs;
    /** Everything after the timestamp's colon, leading blanks removed. */
    String body;

    boolean parse(String line) {
      int n = line.length();
      for (int slash = line.indexOf('/'); slash >= 0; slash = line.indexOf('/', slash + 1)) {
        int pidStart = skipDigitsBack(line, slash);
        if (pidStart == slash) {
          continue;
        }
        if (pidStart > 0 && line.charAt(pidStart - 1) == '-') {
          pidStart--;
        }
        if (pidStart > 0 && !Character.isWhitespace(line.charAt(pidStart - 1))) {
          continue;
        }
        int tidStart = slash + 1;
        int tidEnd = skipDigits(line, tidStart < n && line.charAt(tidStart) == '-' ? tidStart + 1 : tidStart);
        if (tidEnd == tidStart || !isDigit(line.charAt(tidEnd - 1))) {
          continue;
        }
        int secStart = skipWhitespace(line, tidEnd);
        int secEnd = skipDigits(line, secStart);
        if (secStart == tidEnd || secEnd == secStart || secEnd >= n || line.charAt(secEnd) != '.') {
          continue;
        }
        int fracEnd = skipDigits(line, secEnd + 1);
        int fracDigits = fracEnd - secEnd - 1;
        if (fracDigits < 1 || fracDigits > 9 || fracEnd >= n || line.charAt(fracEnd) != ':') {
          continue;
        }
        comm = line.substring(0, pidStart).strip();
        pid = Integer.parseInt(line, pidStart, slash, 10);
        tid = Integer.parseInt(line, tidStart, tidEnd, 10);
        long fraction = Long.parseLong(line, secEnd + 1, fracEnd, 10);
        for (int i = fracDigits; i < 9; i++) {
          fraction *= 10;
        }
        timeNs = Math.addExact(
            Math.multiplyExact(Long.parseLong(line, secStart, secEnd, 10), 1_000_000_000L), fraction);
        body = line.substring(skipWhitespace(line, fracEnd + 1));
        return true;
      }
      return false;
    }

    private static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }

    private static int skipDigits(String s, int i) {
      while (i < s.length() && isDigit(s.charAt(i))) {
        i++;
      }
      return i;
    }

    private static int skipDigitsBack(String s, int end) {
      int i = end;
      while (i > 0 && isDigit(s.charAt(i - 1))) {
        i--;
      }
      return i;
    }

    private static int skipWhitespace(String s, int i) {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      return i;
    }
  }

  /**
   * A 64-bit value printed as {@code 0x} and 1 to 16 hex digits (or perf's bare {@code 0} for
   * {@code %#lx} of zero), read as unsigned and returned as the same 64 bits: {@code 0xfffffffffffffff4}
   * becomes -12.
   */
  static long hexField(String text, String what) throws LineError {
    if (text.equals("0")) {
      return 0;
    }
    int digits = text.length() - 2;
    if (!text.startsWith("0x") || digits < 1 || digits > 16) {
      throw new LineError(what + " is not a 64-bit hex number: '" + text + "'");
    }
    long value = 0;
    for (int i = 2; i < text.length(); i++) {
      int d = Character.digit(text.charAt(i), 16);
      if (d < 0) {
        throw new LineError(what + " is not a 64-bit hex number: '" + text + "'");
      }
      value = (value << 4) | d;
    }
    return value;
  }

  /** A syscall enter waiting for its exit. */
  private static final class PendingEnter {
    final int lineNo;
    final String comm;
    final int pid;
    final int tid;
    final long timeNs;
    final String name;
    final Map<String, Long> args;
    int slot;

    PendingEnter(int lineNo, String comm, int pid, int tid, long timeNs, String name, Map<String, Long> args) {
      this.lineNo = lineNo;
      this.comm = comm;
      this.pid = pid;
      this.tid = tid;
      this.timeNs = timeNs;
      this.name = name;
      this.args = args;
    }
  }

  /** What is wrong with one line; becomes a {@link TraceFormatException} with the file and line. */
  static final class LineError extends Exception {
    private static final long serialVersionUID = 1L;

    LineError(String reason) {
      super(reason, null, false, false);
    }
  }

  /**
   * Decompresses gzip, turning a stream that ends early or is corrupt into a clean end of input plus a
   * recorded {@link #failure}, so that every complete line before the break is still delivered and the
   * break is reported at the line where it happened. The {@link GZIPInputStream} is opened on first read
   * so that a header cut short is handled the same way.
   */
  private static final class GunzipGuard extends InputStream {
    private final InputStream compressed;
    private GZIPInputStream gzip;
    IOException failure;

    GunzipGuard(InputStream compressed) {
      this.compressed = compressed;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (failure != null) {
        return -1;
      }
      try {
        if (gzip == null) {
          gzip = new GZIPInputStream(compressed, 1 << 16);
        }
        return gzip.read(b, off, len);
      } catch (EOFException | ZipException e) {
        failure = e;
        return -1;
      }
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n;
      do {
        n = read(one, 0, 1);
      } while (n == 0);
      return n < 0 ? -1 : one[0] & 0xff;
    }
  }
}
