package dev.mmlab.api;

/**
 * A strategy's lock for one address space, as syscalls and monitors use it. Faults use the strategy's
 * {@link FaultHandler} instead, which may or may not take this lock.
 *
 * <p>The engine runs each syscall as: {@link #lock} for the intent; plan against the current VMAs; check
 * {@link MmLockGuard#covers} for everything the plan touches (else close the guard and lock wider); call
 * {@link MmLockGuard#startWrite} for every VMA it will change or remove and {@link MmLockGuard#prepareNew}
 * for every VMA it will publish; publish; zap; {@link MmLockGuard#close}.
 */
public interface MmLock {
    /**
     * Acquire what {@code intent} asks for. The caller holds nothing of this mm. May block; a thread
     * interrupted while waiting gets {@link ErrnoException} with {@link Errno#EINTR} and holds nothing.
     */
    MmLockGuard lock(LockIntent intent);

    /** True when no thread holds or waits for any part of this lock (checked at quiescent points). */
    boolean isIdle();

    /** A human-readable list of current holders and waiters, for a watchdog or a failed check. */
    String describe();
}
