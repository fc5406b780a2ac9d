package dev.mmlab.api.sync;

import dev.mmlab.api.LockIntent;
import dev.mmlab.api.stats.LockWaitRecorder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A reader/writer semaphore with the queueing rules of Linux's rwsem ({@code kernel/locking/rwsem.c}).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> One short internal mutex guards the state: the number of active readers,
 *       the writer (if any), the FIFO wait queue, and the intents of the holders (so a waiter can say who
 *       blocked it). A waiter's {@code granted} flag is volatile, set under the mutex by whoever grants it.</li>
 *   <li><b>Lock order.</b> the mutex is a leaf: held for one state change, never while a thread waits. A wait
 *       is recorded after the mutex is dropped ({@link LockWaitRecorder#begin} under it takes nothing). What
 *       the holder of the semaphore takes next is its user's rule (for the mmap lock: a VMA lock, then a
 *       PTL).</li>
 *   <li><b>Follows.</b> Linux's rwsem queueing rules:
 *       <ul>
 *         <li>A reader is granted at once only when no writer holds the lock <em>and nobody waits</em>: once a
 *             writer queues, new readers queue behind it ("any down_write essentially turns it into a
 *             mutex").</li>
 *         <li>A writer is granted when nobody holds the lock and it is first in the queue.</li>
 *         <li>When the first waiter is a reader, every reader in the queue is woken together, skipping queued
 *             writers (Linux 5.3+ {@code rwsem_mark_wake}, up to {@value #MAX_READERS_WAKEUP} at a time).</li>
 *         <li>{@link #downgrade} turns the writer into a reader and wakes the waiting readers.</li>
 *         <li>Waits are killable: an interrupted waiter leaves the queue, and if that unblocks the waiters
 *             behind it they are woken; it holds nothing and gets {@link InterruptedException}. A waiter
 *             granted at the moment it was interrupted keeps the lock and returns normally with its interrupt
 *             flag set.</li>
 *       </ul>
 *       Not modelled: optimistic spinning and reader lock stealing (they change latency, not who waits for
 *       whom).</li>
 *   <li><b>What a waiter may see.</b> Waiters park; the releaser grants under the mutex and unparks, so a
 *       granted waiter never re-checks. Early and spurious returns from park only re-read {@code granted}.</li>
 * </ul>
 */
public final class RwSemaphore {
    static final int MAX_READERS_WAKEUP = 256;

    private final String name;
    private final LockWaitRecorder recorder;
    private final Mutex mutex = Mutex.internal();
    private final ArrayDeque<Waiter> queue = new ArrayDeque<>();
    private final List<LockIntent> readers = new ArrayList<>();
    private LockIntent writer;

    private static final class Waiter {
        final LockIntent intent;
        final boolean write;
        final Thread thread = Thread.currentThread();
        volatile boolean granted;

        Waiter(LockIntent intent, boolean write) {
            this.intent = intent;
            this.write = write;
        }
    }

    /**
     * @param name how waits on this lock are labelled
     * @param recorder where waits are recorded, or null
     */
    public RwSemaphore(String name, LockWaitRecorder recorder) {
        this.name = name;
        this.recorder = recorder;
    }

    /** {@code down_read_killable}. May block. */
    public void acquireRead(LockIntent intent) throws InterruptedException {
        acquire(intent, false);
    }

    /** {@code down_write_killable}. May block. */
    public void acquireWrite(LockIntent intent) throws InterruptedException {
        acquire(intent, true);
    }

    /** {@code down_read_trylock}: never blocks; fails when a writer holds or waits. */
    public boolean tryAcquireRead(LockIntent intent) {
        Sched.lockOp(this); // the count word: one atomic, as down_read/up_read
        mutex.lock();
        try {
            if (writer == null && queue.isEmpty()) {
                readers.add(intent);
                return true;
            }
            return false;
        } finally {
            mutex.unlock();
        }
    }

    /** {@code down_write_trylock}: never blocks. */
    public boolean tryAcquireWrite(LockIntent intent) {
        Sched.lockOp(this); // the count word: one atomic, as down_read/up_read
        mutex.lock();
        try {
            if (writer == null && readers.isEmpty() && queue.isEmpty()) {
                writer = intent;
                return true;
            }
            return false;
        } finally {
            mutex.unlock();
        }
    }

    private void acquire(LockIntent intent, boolean write) throws InterruptedException {
        Sched.lockOp(this); // the count word: one atomic, as down_read/up_read
        Waiter w;
        LockWaitRecorder.Pending pending = null;
        mutex.lock();
        try {
            if (write ? writer == null && readers.isEmpty() && queue.isEmpty() : writer == null && queue.isEmpty()) {
                if (write) {
                    writer = intent;
                } else {
                    readers.add(intent);
                }
                return;
            }
            w = new Waiter(intent, write);
            if (recorder != null) {
                pending = recorder.begin(intent, blockersLocked(), name);
            }
            queue.addLast(w);
        } finally {
            mutex.unlock();
        }
        try {
            awaitGrant(w);
        } finally {
            if (pending != null) {
                pending.end();
            }
        }
    }

    private void awaitGrant(Waiter w) throws InterruptedException {
        while (!w.granted) {
            Sched.parkSpinning(this);
            if (Thread.interrupted()) {
                mutex.lock();
                try {
                    if (!w.granted) {
                        queue.remove(w);
                        wakeLocked();
                        throw new InterruptedException("interrupted while waiting for " + name);
                    }
                } finally {
                    mutex.unlock();
                }
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private List<LockIntent> blockersLocked() {
        List<LockIntent> b = new ArrayList<>(readers.size() + queue.size() + 1);
        if (writer != null) {
            b.add(writer);
        }
        b.addAll(readers);
        for (Waiter q : queue) {
            b.add(q.intent);
        }
        return b;
    }

    /** {@code up_read}. The caller holds a read lock taken with {@code intent}. */
    public void releaseRead(LockIntent intent) {
        Sched.lockOp(this); // the count word: one atomic, as down_read/up_read
        mutex.lock();
        try {
            if (!removeIdentity(readers, intent)) {
                throw new IllegalStateException(name + ": releaseRead by a non-holder " + intent);
            }
            if (readers.isEmpty()) {
                wakeLocked();
            }
        } finally {
            mutex.unlock();
        }
    }

    /** {@code up_write}. The caller holds the write lock. */
    public void releaseWrite(LockIntent intent) {
        Sched.lockOp(this); // the count word: one atomic, as down_read/up_read
        mutex.lock();
        try {
            if (writer != intent) {
                throw new IllegalStateException(name + ": releaseWrite by a non-holder " + intent + ", holder " + writer);
            }
            writer = null;
            wakeLocked();
        } finally {
            mutex.unlock();
        }
    }

    /** {@code downgrade_write}: the writer becomes a reader; waiting readers join it. */
    public void downgrade(LockIntent intent) {
        Sched.lockOp(this); // the count word: one atomic, as down_read/up_read
        mutex.lock();
        try {
            if (writer != intent) {
                throw new IllegalStateException(name + ": downgrade by a non-holder " + intent);
            }
            writer = null;
            readers.add(intent);
            wakeReadersLocked();
        } finally {
            mutex.unlock();
        }
    }

    /** Grant the head of the queue if it can run now. Caller holds the mutex. */
    private void wakeLocked() {
        Waiter head = queue.peekFirst();
        if (head == null || writer != null) {
            return;
        }
        if (head.write) {
            if (readers.isEmpty()) {
                queue.removeFirst();
                writer = head.intent;
                grant(head);
            }
        } else {
            wakeReadersLocked();
        }
    }

    private void wakeReadersLocked() {
        int woken = 0;
        for (Iterator<Waiter> it = queue.iterator(); it.hasNext() && woken < MAX_READERS_WAKEUP;) {
            Waiter q = it.next();
            if (!q.write) {
                it.remove();
                readers.add(q.intent);
                grant(q);
                woken++;
            }
        }
    }

    private static void grant(Waiter w) {
        w.granted = true;
        Sched.unpark(w.thread);
    }

    private static boolean removeIdentity(List<LockIntent> list, LockIntent intent) {
        for (int i = list.size() - 1; i >= 0; i--) {
            if (list.get(i) == intent) {
                list.remove(i);
                return true;
            }
        }
        return false;
    }

    /** Holders and queued waiters, in that order (a snapshot). */
    public List<LockIntent> holdersAndWaiters() {
        mutex.lock();
        try {
            return blockersLocked();
        } finally {
            mutex.unlock();
        }
    }

    public boolean isWriteLocked() {
        mutex.lock();
        try {
            return writer != null;
        } finally {
            mutex.unlock();
        }
    }

    public int readerCount() {
        mutex.lock();
        try {
            return readers.size();
        } finally {
            mutex.unlock();
        }
    }

    /** True when nobody holds or waits. */
    public boolean isIdle() {
        mutex.lock();
        try {
            return writer == null && readers.isEmpty() && queue.isEmpty();
        } finally {
            mutex.unlock();
        }
    }

    public String describe() {
        mutex.lock();
        try {
            StringBuilder sb = new StringBuilder(name).append(": ");
            sb.append(writer != null ? "writer " + writer : readers.size() + " readers " + readers);
            if (!queue.isEmpty()) {
                sb.append("; queued:");
                for (Waiter q : queue) {
                    sb.append(' ').append(q.write ? "W " : "R ").append(q.intent);
                }
            }
            return sb.toString();
        } finally {
            mutex.unlock();
        }
    }

    public String name() {
        return name;
    }
}
