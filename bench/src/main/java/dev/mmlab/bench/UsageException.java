package dev.mmlab.bench;

/**
 * Bad usage or bad input: the CLI prints the message as one line (what is wrong and how to fix it) and exits
 * with status 2, without a stack trace.
 */
public final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }

    public UsageException(String message, Throwable cause) {
        super(message, cause);
    }
}
