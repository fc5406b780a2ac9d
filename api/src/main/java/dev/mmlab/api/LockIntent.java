package dev.mmlab.api;

/**
 * What an operation asks of an mm lock: the range it wants locked, read or write, why, and its true
 * footprint (the addresses whose mapping it reads or changes), which the lock-wait recorder uses to tell
 * true conflicts from false ones. The lock range may be wider than the footprint (a merge neighbour, the
 * whole space for a coarse lock); the footprint of a /proc reader moves as it walks ({@link #moveFootprint}).
 * It also names the task (thread) that made it, the owner a waiter reports. Making one takes no shared
 * state, so a fault may make one on every try.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Everything but the footprint is final. The footprint is two volatile words
 *       written only by the /proc walker that made and holds the intent ({@link #moveFootprint}) and read by
 *       any thread: by a waiter naming its blockers and by the lock-wait recorder classifying a wait
 *       as a true or false conflict.</li>
 *   <li><b>Lock order.</b> none: takes no lock; made and read under any lock.</li>
 *   <li><b>What a reader may see mid-update.</b> The two words are written one after the other, so a reader on
 *       another thread may see the new start with the old end (or the reverse) for a moment. That only moves
 *       the border between a true and a false conflict for one recorded wait. The one lock decision that reads
 *       a footprint (the speculative strategy marking an mremap's VMAs) reads its own thread's intent, which
 *       never moves.</li>
 * </ul>
 */
public final class LockIntent {
    public enum Mode { READ, WRITE }

    private final OpKind op;
    private final Mode mode;
    private final long start;
    private final long end;
    private final Thread task;
    private volatile long footprintStart;
    private volatile long footprintEnd;

    private LockIntent(OpKind op, Mode mode, long start, long end, long footprintStart, long footprintEnd, Thread task) {
        if (start >= end) {
            throw new IllegalArgumentException("empty lock range " + start + ".." + end);
        }
        this.op = op;
        this.mode = mode;
        this.start = start;
        this.end = end;
        this.footprintStart = footprintStart;
        this.footprintEnd = footprintEnd;
        this.task = task;
    }

    /** An intent of the calling thread whose lock range is its footprint. */
    public static LockIntent of(OpKind op, Mode mode, long start, long end) {
        return new LockIntent(op, mode, start, end, start, end, Thread.currentThread());
    }

    /** An intent of the calling thread for the whole address space with the given footprint. */
    public static LockIntent coarse(OpKind op, Mode mode, long footprintStart, long footprintEnd) {
        return new LockIntent(op, mode, 0, Linux.TASK_SIZE + Linux.PAGE_SIZE, footprintStart, footprintEnd,
                Thread.currentThread());
    }

    /** The same operation asking for another lock range (widened for merges, or coarse after a retry). */
    public LockIntent withRange(long newStart, long newEnd) {
        return new LockIntent(op, mode, newStart, newEnd, footprintStart, footprintEnd, task);
    }

    /** The same operation asking for the whole address space. */
    public LockIntent asCoarse() {
        return withRange(0, Linux.TASK_SIZE + Linux.PAGE_SIZE);
    }

    /** The same operation in another mode (a fault escalating to the write lock). */
    public LockIntent withMode(Mode newMode) {
        return new LockIntent(op, newMode, start, end, footprintStart, footprintEnd, task);
    }

    /**
     * The same operation made by {@code otherTask}: for a lock that describes a holder it does not run on (a
     * writer naming the readers it waits for).
     */
    public LockIntent withTask(Thread otherTask) {
        return new LockIntent(op, mode, start, end, footprintStart, footprintEnd, otherTask);
    }

    public OpKind op() {
        return op;
    }

    public Mode mode() {
        return mode;
    }

    public boolean isWrite() {
        return mode == Mode.WRITE;
    }

    public long start() {
        return start;
    }

    public long end() {
        return end;
    }

    public boolean isCoarse() {
        return start == 0 && end > Linux.TASK_SIZE;
    }

    /** The thread that made this intent. */
    public Thread task() {
        return task;
    }

    public long footprintStart() {
        return footprintStart;
    }

    public long footprintEnd() {
        return footprintEnd;
    }

    /** A walker moved on: its footprint is now {@code [start, end)}. */
    public void moveFootprint(long newStart, long newEnd) {
        footprintStart = newStart;
        footprintEnd = newEnd;
    }

    /** Whether the true footprints of this and {@code other} overlap. */
    public boolean footprintOverlaps(LockIntent other) {
        return Linux.overlaps(footprintStart, footprintEnd, other.footprintStart, other.footprintEnd);
    }

    @Override
    public String toString() {
        return String.format("%s %s [%x,%x) footprint [%x,%x) by %s", op.label(), mode, start, end, footprintStart,
                footprintEnd, task.getName());
    }
}
