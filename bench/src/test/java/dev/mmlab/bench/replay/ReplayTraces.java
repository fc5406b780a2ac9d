package dev.mmlab.bench.replay;

import dev.mmlab.bench.trace.Trace;
import dev.mmlab.bench.trace.TraceParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The test traces under {@code src/test/resources/traces}, parsed once per JVM. */
final class ReplayTraces {
  static final List<String> SHARED = List.of("py-threads", "sort-parallel", "xz-t2");
  static final List<String> ORACLE = List.of(
      "vmaops-1", "vmaops-2", "vmaops-3", "vmaops-4", "vmaops-5",
      "vmaops2-1001", "vmaops2-1002", "vmaops2-1003", "vmaops2-1004", "vmaops2-1005");

  private static final Map<String, Trace> PARSED = new ConcurrentHashMap<>();

  private ReplayTraces() {}

  /** {@code traces/NAME.perf.txt.gz}, parsed strictly. */
  static Trace trace(String name) {
    return PARSED.computeIfAbsent(name, n -> {
      try {
        return TraceParser.parse(resource(n + ".perf.txt.gz"), false);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  static Path resource(String fileName) {
    URL url = ReplayTraces.class.getResource("/traces/" + fileName);
    if (url == null) {
      throw new IllegalStateException("missing test resource traces/" + fileName);
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
