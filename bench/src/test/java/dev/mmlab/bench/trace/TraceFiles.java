package dev.mmlab.bench.trace;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.GZIPOutputStream;

/**
 * The test traces under {@code src/test/resources/traces} and small helpers around them; the replay tests use
 * the names and paths too.
 */
public final class TraceFiles {
  public static final List<String> SHARED = List.of("py-threads", "sort-parallel", "xz-t2");
  public static final List<String> ORACLE = List.of(
      "vmaops-1", "vmaops-2", "vmaops-3", "vmaops-4", "vmaops-5",
      "vmaops2-1001", "vmaops2-1002", "vmaops2-1003", "vmaops2-1004", "vmaops2-1005");

  private TraceFiles() {}

  /** {@code traces/NAME.perf.txt.gz} on the test class path. */
  public static Path recorded(String name) {
    return resource(name + ".perf.txt.gz");
  }

  /** {@code traces/FILENAME} on the test class path. */
  public static Path resource(String fileName) {
    URL url = TraceFiles.class.getResource("/traces/" + fileName);
    if (url == null) {
      throw new IllegalStateException("missing test resource traces/" + fileName);
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  static byte[] gzip(byte[] plain) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(plain);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Count of events per kind, keyed by simple class name, e.g. {@code PageFault -> 36243}. */
  static Map<String, Long> kinds(Trace t) {
    return t.events().stream()
        .collect(Collectors.groupingBy(e -> e.getClass().getSimpleName(), Collectors.counting()));
  }

  /** Count of syscalls per name. */
  static Map<String, Long> syscalls(Trace t) {
    return t.eventsOfType(Syscall.class).stream()
        .collect(Collectors.groupingBy(Syscall::name, Collectors.counting()));
  }
}
