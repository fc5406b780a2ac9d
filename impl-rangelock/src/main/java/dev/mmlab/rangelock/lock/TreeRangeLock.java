package dev.mmlab.rangelock.lock;

import dev.mmlab.api.sync.Mutex;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.List;

/**
 * The default {@link RangeLock}: an interval tree of held and waiting requests under one short mutex,
 * with FIFO order among overlapping requests.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>Follows.</b> The "blocking_ranges" range lock of Jan Kara (2013, "lib: Implement range locks") as
 *       reworked by Davidlohr Bueso (2017, "locking: Introduce range reader/writer lock").</li>
 *   <li><b>What protects what.</b> The mutex protects the interval tree (every request that is held or
 *       waiting, keyed by {@code (start, seq)}), the sequence counter, and each request's blocking count and
 *       released flag. It is held for one tree update plus one overlap query, never while a thread waits for a
 *       range, and threads are unparked after it is dropped.</li>
 *   <li><b>Lock order.</b> the caller's own short lock, if any (the rangelock strategy enqueues under its VMA
 *       lock) &rarr; the mutex, a leaf. Granted ranges are not locks in this sense: a waiter holds nothing of
 *       this lock while it parks.</li>
 *   <li><b>Invariants, with the mutex held.</b>
 *       <ul>
 *         <li>{@code seq} increases with arrival order, so "earlier" means smaller {@code seq};</li>
 *         <li>{@code r.blocking} == number of requests in the tree that conflict with {@code r} and have a
 *             smaller {@code seq};</li>
 *         <li>{@code r.granted == (r.blocking == 0)}; once set it stays set, since later arrivals never block
 *             {@code r};</li>
 *         <li>hence no two granted requests conflict: the later one counts the earlier while it is in the
 *             tree.</li>
 *       </ul></li>
 *   <li><b>Queueing.</b> Arrival counts the conflicting requests already in the tree, held or waiting, then
 *       inserts itself. Removal (unlock, or an interrupted waiter withdrawing) takes the request out and
 *       decrements every later conflicting request; those reaching zero are granted and unparked. So a request
 *       waits exactly for the earlier overlapping ones it conflicts with: a writer waits for earlier readers,
 *       and a reader arriving after a queued overlapping writer waits behind that writer, so writers do not
 *       starve. Requests that do not overlap never delay each other, whatever is queued.</li>
 *   <li><b>What a waiter may see mid-update.</b> {@code r.granted} is volatile and written under the mutex
 *       before the unpark; the waiter re-checks it after every return from park, so early, late and spurious
 *       unparks are harmless. A granted request's fields are never written again except {@code released},
 *       which only the mutex reads.</li>
 * </ul>
 */
public final class TreeRangeLock implements RangeLock {

    private final Mutex mutex = new Mutex();

    // Guarded by mutex.
    private final IntervalTree<Request> tree = new IntervalTree<>();
    private final List<Request> scratch = new ArrayList<>();
    private long nextSeq;

    /** Creates an idle lock. */
    public TreeRangeLock() {
    }

    /** {@inheritDoc} Waits in FIFO order behind every earlier overlapping writer, held or waiting. */
    @Override
    public Handle lockRead(long start, long end) throws InterruptedException {
        return lock(start, end, false);
    }

    /** {@inheritDoc} Waits in FIFO order behind every earlier overlapping request, held or waiting. */
    @Override
    public Handle lockWrite(long start, long end) throws InterruptedException {
        return lock(start, end, true);
    }

    /** {@inheritDoc} Fails if a conflicting request is held or waiting: a try never jumps the queue. */
    @Override
    public Handle tryLockRead(long start, long end) {
        return tryLock(start, end, false);
    }

    /** {@inheritDoc} Fails if a conflicting request is held or waiting: a try never jumps the queue. */
    @Override
    public Handle tryLockWrite(long start, long end) {
        return tryLock(start, end, true);
    }

    /** {@inheritDoc} Exact: taken under the mutex. */
    @Override
    public List<Handle> holders() {
        List<Handle> granted = new ArrayList<>();
        mutex.lock();
        try {
            tree.collectAll(scratch);
            for (Request r : scratch) {
                if (r.granted) {
                    granted.add(r);
                }
            }
        } finally {
            scratch.clear();
            mutex.unlock();
        }
        return List.copyOf(granted);
    }

    /** {@inheritDoc} */
    @Override
    public boolean isIdle() {
        mutex.lock();
        try {
            return tree.isEmpty();
        } finally {
            mutex.unlock();
        }
    }

    @Override
    public String toString() {
        mutex.lock();
        try {
            return "TreeRangeLock[requests=" + tree.size() + "]";
        } finally {
            mutex.unlock();
        }
    }

    private Handle lock(long start, long end, boolean write) throws InterruptedException {
        Ranges.checkRange(start, end);
        if (Thread.interrupted()) {
            throw new InterruptedException();
        }
        return enqueue(start, end, write, null).await();
    }

    /**
     * {@inheritDoc} Takes its place in the FIFO order now: the ticket waits exactly for the earlier
     * conflicting requests it names.
     */
    @Override
    public Ticket enqueue(long start, long end, boolean write, Object owner) {
        Ranges.checkRange(start, end);
        Request r = new Request(this, start, end, write, Thread.currentThread(), owner);
        List<Object> blockers = List.of();
        mutex.lock();
        try {
            r.seq = nextSeq++;
            tree.collectOverlapping(start, end, scratch);
            for (Request earlier : scratch) {
                if (earlier.conflictsWith(r)) {
                    r.blocking++;
                    if (earlier.owner != null) {
                        if (blockers.isEmpty()) {
                            blockers = new ArrayList<>(2);
                        }
                        blockers.add(earlier.owner);
                    }
                }
            }
            tree.insert(r);
            r.granted = r.blocking == 0;
        } finally {
            scratch.clear();
            mutex.unlock();
        }
        return new TreeTicket(r, blockers);
    }

    /** The waiting side of one queued request. */
    private final class TreeTicket implements Ticket {
        private final Request r;
        private final boolean grantedAtEnqueue;
        private final List<Object> blockers;

        TreeTicket(Request r, List<Object> blockers) {
            this.r = r;
            this.grantedAtEnqueue = r.granted;
            this.blockers = List.copyOf(blockers);
        }

        @Override
        public boolean isGranted() {
            return grantedAtEnqueue;
        }

        @Override
        public List<Object> blockers() {
            return blockers;
        }

        @Override
        public Handle await() throws InterruptedException {
            while (!r.granted) {
                Sched.park(TreeRangeLock.this);
                if (Thread.interrupted()) {
                    // Withdraw even if the grant raced with the interrupt: the caller sees the interrupt,
                    // and removal is the same whether r was granted or still waiting.
                    release(r);
                    throw new InterruptedException();
                }
            }
            return r;
        }

        @Override
        public Handle awaitUninterruptibly() {
            boolean interrupted = false;
            while (!r.granted) {
                Sched.park(TreeRangeLock.this);
                // Clearing the status matters: park returns at once while it is set.
                if (Thread.interrupted()) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return r;
        }
    }

    private Handle tryLock(long start, long end, boolean write) {
        Ranges.checkRange(start, end);
        Request r = new Request(this, start, end, write, null, null);
        mutex.lock();
        try {
            tree.collectOverlapping(start, end, scratch);
            for (Request other : scratch) {
                if (other.conflictsWith(r)) {
                    return null;
                }
            }
            r.seq = nextSeq++;
            tree.insert(r);
            r.granted = true;
            return r;
        } finally {
            scratch.clear();
            mutex.unlock();
        }
    }

    /**
     * Takes {@code r} out of the tree and grants every later conflicting request that was waiting only
     * for it. Used both by unlock and by an interrupted waiter withdrawing.
     */
    private void release(Request r) {
        List<Request> woken = null;
        mutex.lock();
        try {
            if (r.released) {
                throw new IllegalStateException("range lock handle " + r + " was already unlocked");
            }
            r.released = true;
            tree.remove(r);
            tree.collectOverlapping(r.start, r.end, scratch);
            for (Request later : scratch) {
                // Earlier conflicting requests can remain only when r withdraws while waiting;
                // they never counted r, so leave them alone.
                if (later.seq > r.seq && later.conflictsWith(r) && --later.blocking == 0) {
                    later.granted = true;
                    if (woken == null) {
                        woken = new ArrayList<>();
                    }
                    woken.add(later);
                }
            }
        } finally {
            scratch.clear();
            mutex.unlock();
        }
        if (woken != null) {
            for (Request w : woken) {
                Sched.unpark(w.waiter);
            }
        }
    }

    /** One request, held or waiting; it is also the handle given to the caller once granted. */
    private static final class Request extends IntervalTree.Node<Request> implements Handle {
        private final TreeRangeLock lock;
        private final boolean write;
        /** The thread parked on this request; null for try-locks, which never wait. */
        private final Thread waiter;
        private final Object owner;

        // Guarded by lock.mutex; granted is volatile so that the waiter can poll it without the mutex.
        private int blocking;
        private volatile boolean granted;
        private boolean released;

        Request(TreeRangeLock lock, long start, long end, boolean write, Thread waiter, Object owner) {
            super(start, end);
            this.lock = lock;
            this.write = write;
            this.waiter = waiter;
            this.owner = owner;
        }

        boolean conflictsWith(Request other) {
            return Ranges.conflicts(start, end, write, other.start, other.end, other.write);
        }

        @Override
        public long start() {
            return start;
        }

        @Override
        public long end() {
            return end;
        }

        @Override
        public boolean isWrite() {
            return write;
        }

        @Override
        public Object owner() {
            return owner;
        }

        @Override
        public void unlock() {
            lock.release(this);
        }

        @Override
        public String toString() {
            return Ranges.describe(start, end, write);
        }
    }
}
