package dev.mmlab.api;

/**
 * What a lock holder has of the whole address space: nothing mm-wide (a fine-grained lock, or no lock), the
 * mm-wide lock for reading ({@code mmap_read_lock}), or for writing ({@code mmap_write_lock}). The
 * counterpart of a driver's declared {@link LockNeed}: a callback that needs {@code need} may run when
 * {@code hold.satisfies(need)}.
 */
public enum CoarseHold {
    NONE,
    READ,
    WRITE;

    /** Whether this hold is enough for a step that needs {@code need}. */
    public boolean satisfies(LockNeed need) {
        switch (need) {
            case FINE:
                return true;
            case COARSE_READ:
                return this != NONE;
            default:
                return this == WRITE;
        }
    }
}
