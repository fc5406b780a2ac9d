package dev.mmlab.api;

/**
 * The lock a driver callback needs, in increasing strength: what a {@link VmOps} declares per callback. What a
 * holder has is a {@link CoarseHold}; the fault core asks the running attempt whether it holds what a step
 * needs ({@link FaultAttempt#holds}).
 */
public enum LockNeed {
    /** Safe under any fine-grained lock that covers the VMA. */
    FINE,
    /** Needs the whole address space locked for reading ({@code mmap_read_lock}). */
    COARSE_READ,
    /** Needs the whole address space locked for writing ({@code mmap_write_lock}). */
    COARSE_WRITE;

    /** Whether this need is at least as strong as {@code other}. */
    public boolean atLeast(LockNeed other) {
        return compareTo(other) >= 0;
    }
}
