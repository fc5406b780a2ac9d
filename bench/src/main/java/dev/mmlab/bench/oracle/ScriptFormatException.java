package dev.mmlab.bench.oracle;

import java.io.IOException;

/** A line of an op script that cannot be run. The message reads {@code FILE:LINE: what is wrong}. */
public final class ScriptFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int line;

    public ScriptFormatException(String file, int line, String reason) {
        super(file + ":" + line + ": " + reason);
        this.line = line;
    }

    /** The 1-based line number. */
    public int line() {
        return line;
    }
}
