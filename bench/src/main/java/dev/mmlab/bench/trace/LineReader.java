package dev.mmlab.bench.trace;

import java.io.IOException;
import java.io.Reader;

/**
 * Splits a character stream into lines like {@link java.io.BufferedReader#readLine()}, but also says
 * whether the last line ended with a newline: a trace cut mid-line must be reported, not half-imported.
 * Only {@code \n} ends a line; a {@code \r} before it is dropped.
 */
final class LineReader {
  private final Reader in;
  private final char[] buf = new char[1 << 16];
  private int pos;
  private int limit;
  private boolean terminated = true;

  LineReader(Reader in) {
    this.in = in;
  }

  /** The next line without its terminator, or {@code null} at the end of the stream. */
  String readLine() throws IOException {
    StringBuilder partial = null;
    while (true) {
      if (pos == limit) {
        int n = in.read(buf, 0, buf.length);
        if (n < 0) {
          if (partial == null) {
            return null;
          }
          terminated = false;
          return stripCr(partial.toString());
        }
        pos = 0;
        limit = n;
        continue;
      }
      for (int i = pos; i < limit; i++) {
        if (buf[i] == '\n') {
          String line;
          if (partial == null) {
            line = new String(buf, pos, i - pos);
          } else {
            line = partial.append(buf, pos, i - pos).toString();
          }
          pos = i + 1;
          terminated = true;
          return stripCr(line);
        }
      }
      if (partial == null) {
        partial = new StringBuilder(256);
      }
      partial.append(buf, pos, limit - pos);
      pos = limit;
    }
  }

  /** Whether the line last returned by {@link #readLine()} ended with a newline. */
  boolean lastLineTerminated() {
    return terminated;
  }

  private static String stripCr(String line) {
    return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
  }
}
