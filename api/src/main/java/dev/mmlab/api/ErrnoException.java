package dev.mmlab.api;

/**
 * A syscall failed with {@link #errno()}. The message says what was wrong and how to fix it. A syscall that
 * throws this for bad input has changed nothing, unless its javadoc says which partial change Linux keeps.
 */
public class ErrnoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Errno errno;

    public ErrnoException(Errno errno, String message) {
        super(errno + ": " + message);
        this.errno = errno;
    }

    public ErrnoException(Errno errno, String message, Throwable cause) {
        super(errno + ": " + message, cause);
        this.errno = errno;
    }

    public Errno errno() {
        return errno;
    }

    /** Shorthand for {@code throw new ErrnoException(errno, String.format(format, args))}. */
    public static ErrnoException of(Errno errno, String format, Object... args) {
        return new ErrnoException(errno, String.format(format, args));
    }
}
