package dev.mmlab.api;

/**
 * The lock a step needs, in increasing strength. A driver declares one per callback; the fault core asks the
 * running attempt whether it holds what a step needs ({@link FaultAttempt#holds}).
 */
public enum LockNeed {
    /** Safe under any fine-grained lock that covers the VMA. */
    FINE,
    /** Needs the whole address space locked for reading ({@code mmap_read_lock}). */
    COARSE_READ,
    /** Needs the whole address space locked for writing ({@code mmap_write_lock}). */
    COARSE_WRITE;

    public boolean atLeast(LockNeed other) {
        return compareTo(other) >= 0;
    }
}
