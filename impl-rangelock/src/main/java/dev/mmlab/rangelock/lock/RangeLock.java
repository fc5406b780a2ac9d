package dev.mmlab.rangelock.lock;

import java.util.List;

/**
 * A reader/writer lock over half-open address ranges {@code [start, end)}.
 *
 * <p>Two requests conflict iff their ranges overlap ({@code a.start < b.end && b.start < a.end};
 * containment counts, touching ends such as {@code [0,10)} and {@code [10,20)} do not) and at least
 * one of them is a write. The full range {@code [0, Long.MAX_VALUE)} is the "coarse lock" and gets no
 * special treatment: it simply overlaps every other non-negative range.
 *
 * <p>Range locks are not owned by threads: a {@link Handle} may be unlocked by any thread, exactly
 * once. They are not reentrant: a thread that holds {@code [0,10)} for write and asks for
 * {@code [5,6)} deadlocks with itself.
 *
 * <p>Every method throws {@link IllegalArgumentException} unless {@code start < end}.
 */
public interface RangeLock {

    /**
     * Locks {@code [start, end)} for read, sharing it with other readers.
     *
     * <p>May block (sleeps) until no conflicting request stands in the way; interruptible. If the
     * thread is interrupted on entry or while waiting, throws and leaves the lock as if the call had
     * never been made: its request is withdrawn and nobody waits on it any longer.
     *
     * @return the granted handle, never null
     * @throws InterruptedException if interrupted before the lock was granted; interrupt status cleared
     */
    Handle lockRead(long start, long end) throws InterruptedException;

    /**
     * Locks {@code [start, end)} for write, excluding every overlapping reader and writer.
     *
     * <p>May block (sleeps) until no conflicting request stands in the way; interruptible, with the
     * same withdrawal guarantee as {@link #lockRead}.
     *
     * @return the granted handle, never null
     * @throws InterruptedException if interrupted before the lock was granted; interrupt status cleared
     */
    Handle lockWrite(long start, long end) throws InterruptedException;

    /**
     * Locks {@code [start, end)} for read if that can be done without waiting. Never blocks.
     *
     * @return the granted handle, or null if the call would have had to wait
     */
    Handle tryLockRead(long start, long end);

    /**
     * Locks {@code [start, end)} for write if that can be done without waiting. Never blocks.
     *
     * @return the granted handle, or null if the call would have had to wait
     */
    Handle tryLockWrite(long start, long end);

    /**
     * Snapshot of the handles currently granted, for instrumentation ("who blocked whom"). Never blocks
     * for long (at most the lock's internal mutex, held briefly). Includes every handle granted before
     * this call started and not yet unlocked; an implementation may be approximate about handles
     * granted or unlocked while the call runs.
     *
     * @return an immutable list, in no particular order
     */
    List<Handle> holders();

    /**
     * Whether nothing is held or waiting. Only meaningful at quiescent points (a leak checker after
     * all workers joined): with concurrent callers the answer may be stale on return.
     */
    boolean isIdle();

    /** A granted range; unlock it exactly once. */
    interface Handle {

        /** First address of the range, inclusive. */
        long start();

        /** End of the range, exclusive. */
        long end();

        /** Whether the range is held for write. */
        boolean isWrite();

        /**
         * Releases the range and lets waiters that it blocked proceed. Never blocks for long (at most the
         * lock's internal mutex, held briefly); may be called from any thread.
         *
         * @throws IllegalStateException if this handle was already unlocked
         */
        void unlock();
    }
}
