package dev.mmlab.bench.trace;

import java.io.IOException;

/**
 * A malformed, truncated or inconsistent line of a trace. The message reads {@code FILE:LINE: what is wrong}.
 */
public final class TraceFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String file;
  private final int line;
  private final String reason;

  public TraceFormatException(String file, int line, String reason) {
    super(file + ":" + line + ": " + reason);
    this.file = file;
    this.line = line;
    this.reason = reason;
  }

  /** The source name given to the parser (the path for files). */
  public String file() {
    return file;
  }

  /** The 1-based line number. */
  public int line() {
    return line;
  }

  /** What is wrong, without the {@code FILE:LINE:} prefix. */
  public String reason() {
    return reason;
  }
}
