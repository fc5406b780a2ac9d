package dev.mmlab.bench.replay;

import dev.mmlab.bench.trace.Trace;
import dev.mmlab.bench.trace.TraceFiles;
import dev.mmlab.bench.trace.TraceParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The test traces ({@link TraceFiles}) parsed once per JVM. */
final class ReplayTraces {
  private static final Map<String, Trace> PARSED = new ConcurrentHashMap<>();

  private ReplayTraces() {}

  /** {@code traces/NAME.perf.txt.gz}, parsed strictly. */
  static Trace trace(String name) {
    return PARSED.computeIfAbsent(name, n -> {
      try {
        return TraceParser.parse(TraceFiles.recorded(n), false);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }
}
