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
     * Queues a request for {@code [start, end)} tagged with {@code owner} (any object the caller uses to
     * say who asks, such as an operation's lock intent; may be null) and returns without waiting: the
     * enqueue-then-wait split that lets a caller queue under its own short lock, drop that lock, and only
     * then wait ({@link Ticket#await}). The ticket names the owners of the requests it waits for, so
     * that a wait can be recorded with its blockers.
     *
     * <p>Never blocks for long (at most the lock's internal mutex, held briefly). An implementation
     * without a queue (the lock-free list) may instead try once here and make the ticket's await do the
     * whole acquisition; it says so.
     *
     * @return a ticket that must be awaited, by the thread that enqueued it, exactly once
     */
    Ticket enqueue(long start, long end, boolean write, Object owner);

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

    /** A request queued by {@link #enqueue}; granted at once or after {@link #await}. */
    interface Ticket {

        /** Whether the request was granted when it was enqueued, so that {@link #await} will not wait. */
        boolean isGranted();

        /**
         * The non-null owners of the conflicting requests that stood ahead of this one when it was
         * enqueued (held or queued): who it waits for. Empty when granted at once; may be approximate
         * (possibly empty) for an implementation without a queue.
         */
        List<Object> blockers();

        /**
         * Waits until granted. Call once, on the thread that enqueued. If interrupted before the grant,
         * withdraws the request (nothing held, nobody waits on it) and throws.
         *
         * @throws InterruptedException if interrupted before the grant; interrupt status cleared
         */
        Handle await() throws InterruptedException;

        /**
         * Waits until granted, ignoring interrupts (a page fault cannot fail with EINTR); the interrupt
         * status is set again on return if an interrupt arrived. Call once, on the thread that enqueued.
         */
        Handle awaitUninterruptibly();
    }

    /** A granted range; unlock it exactly once. */
    interface Handle {

        /** The owner given to {@link #enqueue}, or null (the plain lock methods give none). */
        Object owner();

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
