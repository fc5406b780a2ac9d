package dev.mmlab.api;

/** The Linux error numbers the model returns, with their x86-64 values (as a trace records them). */
public enum Errno {
    EPERM(1), EINTR(4), EIO(5), EBADF(9), EAGAIN(11), ENOMEM(12), EACCES(13), EFAULT(14), EBUSY(16),
    EEXIST(17), ENODEV(19), EINVAL(22), EFBIG(27), EOVERFLOW(75), EOPNOTSUPP(95);

    private final int number;

    Errno(int number) {
        this.number = number;
    }

    /** The positive errno value; a syscall returns its negation. */
    public int number() {
        return number;
    }

    /** The errno whose value is {@code number}, or null when the model does not know it. */
    public static Errno of(int number) {
        for (Errno e : values()) {
            if (e.number == number) {
                return e;
            }
        }
        return null;
    }
}
