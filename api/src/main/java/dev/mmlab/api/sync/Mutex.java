package dev.mmlab.api.sync;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A reentrant mutual-exclusion lock that waits through {@link Sched}, for the engine's and the strategies'
 * short internal locks (a PTE table's lock, a semaphore's or a range lock's internal mutex). On the wall clock
 * it is a {@link ReentrantLock}. Under a virtual-time scheduler a thread that finds it held parks through the
 * scheduler, and the holder's {@link #unlock} wakes the first such thread, so a simulated thread never blocks
 * where the scheduler cannot see it.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Mutual exclusion is the {@link ReentrantLock}'s in both modes; a scheduled
 *       thread only ever try-locks it and, when that fails, queues itself in {@code parked} and parks through
 *       the seam. On the wall clock {@code parked} stays empty, so {@link #unlock} costs one extra volatile
 *       read.</li>
 *   <li><b>Lock order.</b> Whatever the user's; the mutex takes nothing else.</li>
 *   <li><b>Wake-ups.</b> {@link #unlock} releases, then unparks the first parked thread, which tries again;
 *       an unpark before its park leaves a permit, so no wake-up is lost. It is not FIFO: a running thread may
 *       take the mutex before the woken one, which then parks again.</li>
 * </ul>
 */
public final class Mutex {
    private final ReentrantLock lock = new ReentrantLock();
    private final ConcurrentLinkedQueue<Thread> parked = new ConcurrentLinkedQueue<>();
    /** Whether taking and releasing it are lock operations on a modelled word ({@link Sched#lockOp}). */
    private final boolean modelled;

    /** A mutex that stands for a lock of the modelled kernel (a PTE table's lock, a spinlock): each op counts. */
    public Mutex() {
        this(true);
    }

    private Mutex(boolean modelled) {
        this.modelled = modelled;
    }

    /**
     * A mutex that is only this implementation's (the internal lock of a semaphore whose kernel counterpart is
     * one atomic word): it waits through the seam like any other, but costs no virtual time and is no cache
     * line; its owner charges the word it models itself.
     */
    public static Mutex internal() {
        return new Mutex(false);
    }

    /** Acquire, waiting as long as it takes. Not interruptible. */
    public void lock() {
        try {
            acquire(false);
        } catch (InterruptedException e) {
            throw new AssertionError("an uninterruptible wait was interrupted", e);
        }
    }

    /**
     * Acquire, waiting until it is free or the thread is interrupted.
     *
     * @throws InterruptedException when interrupted before or while waiting; then nothing is held
     */
    public void lockInterruptibly() throws InterruptedException {
        acquire(true);
    }

    private void acquire(boolean interruptible) throws InterruptedException {
        if (modelled) {
            Sched.lockOp(this);
        }
        if (lock.tryLock()) {
            return;
        }
        Sched.Scheduler scheduler = Sched.current();
        if (scheduler == Sched.WALL_CLOCK) {
            if (interruptible) {
                lock.lockInterruptibly();
            } else {
                lock.lock();
            }
            return;
        }
        Thread me = Thread.currentThread();
        parked.add(me);
        try {
            while (!lock.tryLock()) {
                if (interruptible && Thread.interrupted()) {
                    throw new InterruptedException("interrupted waiting for " + this);
                }
                scheduler.parkSpinning(this); // kernel spinlocks spin: a hand-over costs a cache line
            }
        } finally {
            parked.remove(me);
        }
    }

    /** Acquire if free (or held by the caller); never waits. */
    public boolean tryLock() {
        if (modelled) {
            Sched.lockOp(this);
        }
        return lock.tryLock();
    }

    /** Release one hold. Caller holds it. */
    public void unlock() {
        if (modelled) {
            Sched.lockOp(this);
        }
        lock.unlock();
        Sched.unpark(parked.peek());
    }

    public boolean isHeldByCurrentThread() {
        return lock.isHeldByCurrentThread();
    }

    /** Whether any thread holds it; a snapshot, for checks and dumps. */
    public boolean isLocked() {
        return lock.isLocked();
    }

    /** How many threads wait for it (on either clock); a snapshot, for checks and dumps. */
    public int waiters() {
        return lock.getQueueLength() + parked.size();
    }

    @Override
    public String toString() {
        return lock.toString();
    }
}
