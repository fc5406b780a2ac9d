package dev.mmlab.rangelock.lock;

import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicMarkableReference;
import java.util.function.Consumer;

/**
 * A lock-free {@link RangeLock}: the list-based reader/writer range lock of Kogan, Dice and Issa,
 * "Scalable Range Locks for Scalable Address Spaces and Beyond" (EuroSys 2020).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> There is no lock anywhere. The state is a singly linked list of nodes,
 *       one per acquired (or acquiring) range, sorted by start, behind a sentinel head. Each node's next
 *       pointer is an {@link AtomicMarkableReference}; the mark on a node's own next pointer means "this node
 *       is logically deleted" (Harris 2001). Because the mark and the pointer live in one atomic word, an
 *       insert CAS on a deleted predecessor's next fails, so nothing is ever linked behind a deleted node. A
 *       node's {@code granted} flag is volatile.</li>
 *   <li><b>Lock order.</b> none: no lock to order. {@link #enqueue} tries once and never waits, so a caller may
 *       call it under its own short lock (the rangelock strategy's VMA lock); the waiting happens in the
 *       ticket's await, which the caller runs holding no such lock. A writer never waits once linked, and a
 *       linked reader waits only for linked writers, so the waits-for graph has no cycle.</li>
 *   <li><b>Acquire.</b> Traverse from the head; help unlink any deleted node met (one CAS on the predecessor's
 *       next); pass nodes that end at or before our start (and, for a reader, readers that start at or before
 *       our start); link with one CAS before the first node that starts at or after our end (for a reader,
 *       also before a reader that starts at or after our start). Any other node overlaps and conflicts: wait
 *       until it is marked, then carry on from the same predecessor. The list stays sorted by start. Then
 *       validate, because linking only looked at one side:
 *       <ul>
 *         <li>a reader walks forward from its node over the nodes that start before its end and waits until
 *             each overlapping writer there is marked. Its traversal stopped at the first reader after its
 *             start, so it never saw those writers; and a writer may have linked itself there meanwhile.</li>
 *         <li>a writer walks from the head to its node; if an unmarked node before it overlaps (a reader that
 *             linked itself behind the writer's traversal), the writer marks its own node and starts over
 *             with a fresh one. Nothing after a writer overlaps it when it links: its successor starts at or
 *             after its end, and so does every later node.</li>
 *       </ul>
 *       A node is granted (and reported by {@link #holders()}) once validation passes.</li>
 *   <li><b>Release.</b> One CAS that sets the mark on the node's next pointer; later traversals unlink it and
 *       the garbage collector reclaims it once no traversal can still reach it (the GC is the grace period
 *       that RCU provides in the kernel version).</li>
 *   <li><b>Waiting.</b> The releaser does not know its waiters, so a waiter polls the node it waits for: a
 *       short spin with {@link Sched#spinWait()}, then {@link Sched#parkNanos} with exponential
 *       backoff up to {@code MAX_PARK_NANOS}, so that a long wait does not burn a core. The cost is up to that
 *       much latency after a release. Interrupts are checked between polls. A writer only waits before it is
 *       linked, so an interrupted writer has nothing to undo; an interrupted reader marks its own node.</li>
 *   <li><b>Fairness.</b> None, and not FIFO. A waiter is not queued anywhere (a waiting writer is not even in
 *       the list), so whoever polls first after a release wins, and later arrivals overtake earlier waiters.
 *       Readers only wait for writers that are linked, so they pass a waiting writer freely: a steady stream
 *       of overlapping readers can starve a writer indefinitely. A parked waiter can also miss a short window
 *       in which its range was free. Use {@link TreeRangeLock} where fairness matters.</li>
 *   <li><b>What a reader may see mid-update.</b> Marked nodes not yet unlinked (skipped), and inserted nodes
 *       still validating (present but not granted). {@link #holders()} and {@link #isIdle()} walk the list
 *       without helping and are approximate for nodes that change while they run; {@link #isIdle()} is true
 *       while a writer is between waiting and inserting, which is why it is only meaningful at quiescent
 *       points.</li>
 *   <li><b>Follows.</b> Kogan, Dice and Issa (EuroSys 2020), with Harris's marked pointers (2001) for
 *       deletion.</li>
 * </ul>
 */
public final class ListRangeLock implements RangeLock {

    /** Polls with onSpinWait before the first park: covers a holder that releases within microseconds. */
    private static final int SPIN_POLLS = 64;
    private static final long MIN_PARK_NANOS = 1_000L;
    /** Bounds the extra latency after a release; a waiter costs at most ~1 wake-up per this period. */
    private static final long MAX_PARK_NANOS = 500_000L;

    /** Where a traversal places a new node relative to the current one. */
    private enum Order { PASS, INSERT_BEFORE, CONFLICT }

    private final Node head = new Node();
    /** Test seam: runs just before each linking CAS, so a test can open the race that validation closes. */
    private final Consumer<? super Handle> beforeLink;

    /** Creates an idle lock. */
    public ListRangeLock() {
        this(node -> { });
    }

    ListRangeLock(Consumer<? super Handle> beforeLink) {
        this.beforeLink = beforeLink;
    }

    /** {@inheritDoc} Not FIFO: may overtake a writer that is waiting for the same range. */
    @Override
    public Handle lockRead(long start, long end) throws InterruptedException {
        Ranges.checkRange(start, end);
        return acquire(start, end, false, false, null);
    }

    /** {@inheritDoc} Not FIFO, and may starve under a stream of overlapping readers. */
    @Override
    public Handle lockWrite(long start, long end) throws InterruptedException {
        Ranges.checkRange(start, end);
        return acquire(start, end, true, false, null);
    }

    /**
     * {@inheritDoc} May also fail, without waiting, when it races with an overlapping writer that is
     * linking itself at the same moment.
     */
    @Override
    public Handle tryLockRead(long start, long end) {
        Ranges.checkRange(start, end);
        return tryAcquire(start, end, false);
    }

    /**
     * {@inheritDoc} May also fail, without waiting, when it races with an overlapping reader that is
     * linking itself at the same moment.
     */
    @Override
    public Handle tryLockWrite(long start, long end) {
        Ranges.checkRange(start, end);
        return tryAcquire(start, end, true);
    }

    /**
     * {@inheritDoc} This lock has no queue to join: enqueue tries once, lock-free, and an ungranted
     * ticket's await does the whole acquisition, with no FIFO position. The blockers are the owners of
     * the overlapping conflicting nodes seen in one walk right after the try failed (approximate: a
     * blocker may have left already, or a writer that was still validating may be named).
     */
    @Override
    public Ticket enqueue(long start, long end, boolean write, Object owner) {
        Ranges.checkRange(start, end);
        Handle granted = tryAcquire(start, end, write, owner);
        if (granted != null) {
            return new ListTicket(start, end, write, owner, granted, List.of());
        }
        List<Object> blockers = new ArrayList<>(2);
        for (Node n = head.next.getReference(); n != null && n.start < end; n = n.next.getReference()) {
            if (!n.isDeleted() && n.owner != null && Ranges.conflicts(n.start, n.end, n.write, start, end, write)) {
                blockers.add(n.owner);
            }
        }
        return new ListTicket(start, end, write, owner, null, blockers);
    }

    /** A try that failed defers the acquisition to await; one that succeeded holds its node. */
    private final class ListTicket implements Ticket {
        private final long start;
        private final long end;
        private final boolean write;
        private final Object owner;
        private final Handle granted;
        private final List<Object> blockers;

        ListTicket(long start, long end, boolean write, Object owner, Handle granted, List<Object> blockers) {
            this.start = start;
            this.end = end;
            this.write = write;
            this.owner = owner;
            this.granted = granted;
            this.blockers = List.copyOf(blockers);
        }

        @Override
        public boolean isGranted() {
            return granted != null;
        }

        @Override
        public List<Object> blockers() {
            return blockers;
        }

        @Override
        public Handle await() throws InterruptedException {
            if (granted != null) {
                return granted;
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            return acquire(start, end, write, false, owner);
        }

        @Override
        public Handle awaitUninterruptibly() {
            if (granted != null) {
                return granted;
            }
            boolean interrupted = false;
            try {
                for (;;) {
                    try {
                        // An interrupted acquire withdrew its node; a fresh one starts over.
                        return acquire(start, end, write, false, owner);
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** {@inheritDoc} Lock-free; reports unmarked nodes that have finished validation. */
    @Override
    public List<Handle> holders() {
        List<Handle> granted = new ArrayList<>();
        for (Node n = head.next.getReference(); n != null; n = n.next.getReference()) {
            if (n.granted && !n.isDeleted()) {
                granted.add(n);
            }
        }
        return List.copyOf(granted);
    }

    /** {@inheritDoc} Lock-free; true when the list holds no unmarked node. */
    @Override
    public boolean isIdle() {
        for (Node n = head.next.getReference(); n != null; n = n.next.getReference()) {
            if (!n.isDeleted()) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "ListRangeLock" + holders();
    }

    private Handle tryAcquire(long start, long end, boolean write) {
        return tryAcquire(start, end, write, null);
    }

    private Handle tryAcquire(long start, long end, boolean write, Object owner) {
        try {
            return acquire(start, end, write, true, owner);
        } catch (InterruptedException e) {
            throw new AssertionError("a try-lock never waits, so it cannot be interrupted", e);
        }
    }

    /** Returns the granted node, or null if {@code tryOnly} and the call would have had to wait. */
    private Handle acquire(long start, long end, boolean write, boolean tryOnly, Object owner)
            throws InterruptedException {
        if (!tryOnly && Thread.interrupted()) {
            throw new InterruptedException();
        }
        for (;;) {
            // A fresh node per attempt: a writer that backs off leaves its marked node behind.
            Node node = new Node(start, end, write, owner);
            if (!insert(node, tryOnly)) {
                return null;
            }
            boolean valid;
            try {
                valid = write ? validateWriter(node) : validateReader(node, tryOnly);
            } catch (InterruptedException e) {
                node.markDeleted();
                throw e;
            }
            if (valid) {
                node.granted = true;
                return node;
            }
            node.markDeleted();
            if (!write || tryOnly) {
                return null; // a reader fails validation only when tryOnly
            }
        }
    }

    /**
     * Links {@code node} into the list in start order once nothing it conflicts with stands at its
     * place. Returns false, without linking, if {@code tryOnly} and it would have had to wait.
     */
    private boolean insert(Node node, boolean tryOnly) throws InterruptedException {
        boolean[] marked = new boolean[1];
        restart:
        for (;;) {
            Node prev = head;
            Node cur = head.next.getReference(); // the head is never marked
            for (;;) {
                Node succ = null;
                if (cur != null) {
                    succ = cur.next.get(marked);
                    if (marked[0]) {
                        // cur is logically deleted: help unlink it, then re-read prev's link.
                        Sched.access(prev, true);
                        prev.next.compareAndSet(cur, succ, false, false);
                        cur = prev.next.get(marked);
                        if (marked[0]) {
                            continue restart; // prev itself was deleted under us
                        }
                        continue;
                    }
                }
                switch (order(cur, node)) {
                    case PASS -> {
                        prev = cur;
                        cur = succ;
                    }
                    case INSERT_BEFORE -> {
                        node.next.set(cur, false);
                        beforeLink.accept(node);
                        Sched.access(prev, true);
                        if (prev.next.compareAndSet(cur, node, false, false)) {
                            return true;
                        }
                        cur = prev.next.get(marked);
                        if (marked[0]) {
                            continue restart;
                        }
                    }
                    case CONFLICT -> {
                        if (tryOnly) {
                            return false;
                        }
                        awaitDeleted(cur);
                        cur = prev.next.get(marked);
                        if (marked[0]) {
                            continue restart;
                        }
                    }
                    default -> throw new AssertionError();
                }
            }
        }
    }

    /**
     * Where {@code node} goes relative to {@code cur}, the first unmarked node not yet passed
     * ({@code compareRW} in the paper). Readers pass and precede readers by start, so the list stays
     * sorted by start.
     */
    private static Order order(Node cur, Node node) {
        if (cur == null) {
            return Order.INSERT_BEFORE;
        }
        boolean bothRead = !cur.write && !node.write;
        if (node.start >= cur.end || (bothRead && node.start >= cur.start)) {
            return Order.PASS;
        }
        if (cur.start >= node.end || (bothRead && cur.start >= node.start)) {
            return Order.INSERT_BEFORE;
        }
        return Order.CONFLICT;
    }

    /**
     * After a reader is linked, waits out each overlapping writer after it in the list. The reader's
     * traversal never looked at them: it stops at the first reader starting at or after its start, and
     * a writer may also have linked itself ahead of the reader while it traversed. Such a writer came
     * first; it holds the range or backs off, and either way marks its node. Returns false if
     * {@code tryOnly} and it would have had to wait.
     */
    private static boolean validateReader(Node node, boolean tryOnly) throws InterruptedException {
        boolean[] marked = new boolean[1];
        restart:
        for (;;) {
            Node prev = node;
            Node cur = node.next.getReference(); // our node is unmarked: only we mark it
            for (;;) {
                // Sorted by start: nothing from here on overlaps us.
                if (cur == null || cur.start >= node.end) {
                    return true;
                }
                Node succ = cur.next.get(marked);
                if (marked[0]) {
                    Sched.access(prev, true);
                    prev.next.compareAndSet(cur, succ, false, false);
                    cur = prev.next.get(marked);
                    if (marked[0]) {
                        continue restart;
                    }
                    continue;
                }
                if (cur.write) {
                    if (tryOnly) {
                        return false;
                    }
                    awaitDeleted(cur);
                    cur = prev.next.get(marked);
                    if (marked[0]) {
                        continue restart;
                    }
                    continue;
                }
                prev = cur;
                cur = succ;
            }
        }
    }

    /**
     * After a writer is linked, checks that no unmarked node before it overlaps it (a node that was
     * linked behind the writer's traversal). Never waits: returns false and the writer backs off.
     */
    private boolean validateWriter(Node node) {
        boolean[] marked = new boolean[1];
        restart:
        for (;;) {
            Node prev = head;
            Node cur = head.next.getReference();
            for (;;) {
                if (cur == node) {
                    return true;
                }
                if (cur == null) {
                    throw new IllegalStateException("unmarked node " + node + " is not reachable from the head");
                }
                Node succ = cur.next.get(marked);
                if (marked[0]) {
                    Sched.access(prev, true);
                    prev.next.compareAndSet(cur, succ, false, false);
                    cur = prev.next.get(marked);
                    if (marked[0]) {
                        continue restart;
                    }
                    continue;
                }
                // Every node before us starts at or before our start, so reaching past it overlaps.
                if (cur.end > node.start) {
                    return false;
                }
                prev = cur;
                cur = succ;
            }
        }
    }

    /** Polls until {@code n} is marked: spin, then park with exponential backoff. Interruptible. */
    private static void awaitDeleted(Node n) throws InterruptedException {
        int spins = 0;
        long parkNanos = MIN_PARK_NANOS;
        while (!n.isDeleted()) {
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (spins < SPIN_POLLS) {
                spins++;
                Sched.spinWait();
            } else {
                Sched.parkNanos(n, parkNanos);
                parkNanos = Math.min(parkNanos * 2, MAX_PARK_NANOS);
            }
        }
    }

    /** A list node; also the handle given to the caller once granted. */
    private static final class Node implements Handle {
        final long start;
        final long end;
        final boolean write;
        final Object owner;
        /** Successor; the mark means this node is logically deleted. */
        final AtomicMarkableReference<Node> next = new AtomicMarkableReference<>(null, false);
        /** Set once validation passed; only for holders(). */
        volatile boolean granted;

        /** The head sentinel: never compared, never marked. */
        Node() {
            this(Long.MIN_VALUE, Long.MIN_VALUE, false, null);
        }

        Node(long start, long end, boolean write, Object owner) {
            this.start = start;
            this.end = end;
            this.write = write;
            this.owner = owner;
        }

        boolean isDeleted() {
            return next.isMarked();
        }

        /** Marks this node deleted with one CAS; false if it already was. */
        boolean markDeleted() {
            boolean[] marked = new boolean[1];
            for (;;) {
                Node succ = next.get(marked);
                if (marked[0]) {
                    return false;
                }
                // Fails only if an insert or unlink changed our successor meanwhile; retry.
                Sched.access(this, true);
                if (next.compareAndSet(succ, succ, false, true)) {
                    return true;
                }
            }
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

        /** {@inheritDoc} Lock-free: one atomic mark; never blocks. */
        @Override
        public void unlock() {
            if (!markDeleted()) {
                throw new IllegalStateException("range lock handle " + this + " was already unlocked");
            }
        }

        @Override
        public String toString() {
            return Ranges.describe(start, end, write);
        }
    }
}
