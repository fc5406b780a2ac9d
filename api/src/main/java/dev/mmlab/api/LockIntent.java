package dev.mmlab.api;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What an operation asks of an mm lock: the range it wants locked, read or write, why, and its true
 * footprint (the addresses whose mapping it reads or changes), which the lock-wait recorder uses to tell
 * true conflicts from false ones. The lock range may be wider than the footprint (a merge neighbour, the
 * whole space for a coarse lock); the footprint of a /proc reader moves as it walks ({@link #moveFootprint}).
 */
public final class LockIntent {
    public enum Mode { READ, WRITE }

    private static final AtomicLong NEXT_ID = new AtomicLong(1);
    private static final ThreadLocal<String> ACTOR = new ThreadLocal<>();

    private final long id;
    private final OpKind op;
    private final Mode mode;
    private final long start;
    private final long end;
    private final String actor;
    private volatile long footprintStart;
    private volatile long footprintEnd;

    private LockIntent(long id, OpKind op, Mode mode, long start, long end, long footprintStart, long footprintEnd,
            String actor) {
        if (start >= end) {
            throw new IllegalArgumentException("empty lock range " + start + ".." + end);
        }
        this.id = id;
        this.op = op;
        this.mode = mode;
        this.start = start;
        this.end = end;
        this.footprintStart = footprintStart;
        this.footprintEnd = footprintEnd;
        this.actor = actor;
    }

    /** An intent whose lock range is its footprint. */
    public static LockIntent of(OpKind op, Mode mode, long start, long end) {
        return new LockIntent(NEXT_ID.getAndIncrement(), op, mode, start, end, start, end, ACTOR.get());
    }

    /** An intent for the whole address space with the given footprint. */
    public static LockIntent coarse(OpKind op, Mode mode, long footprintStart, long footprintEnd) {
        return new LockIntent(NEXT_ID.getAndIncrement(), op, mode, 0, Linux.TASK_SIZE + Linux.PAGE_SIZE,
                footprintStart, footprintEnd, ACTOR.get());
    }

    /** The same operation asking for another lock range (widened for merges, or coarse after a retry). */
    public LockIntent withRange(long newStart, long newEnd) {
        return new LockIntent(id, op, mode, newStart, newEnd, footprintStart, footprintEnd, actor);
    }

    /** The same operation asking for the whole address space. */
    public LockIntent asCoarse() {
        return withRange(0, Linux.TASK_SIZE + Linux.PAGE_SIZE);
    }

    /** The same operation in another mode (a fault escalating to the write lock). */
    public LockIntent withMode(Mode newMode) {
        return new LockIntent(id, op, newMode, start, end, footprintStart, footprintEnd, actor);
    }

    /**
     * Label the calling thread's later intents with {@code actor} (a scenario role such as "faulters"), or
     * clear it with null. Reports group waits by it.
     */
    public static void setActor(String actor) {
        if (actor == null) {
            ACTOR.remove();
        } else {
            ACTOR.set(actor);
        }
    }

    public long id() {
        return id;
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

    /** The role of the thread that made this intent, or null. */
    public String actor() {
        return actor;
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
        return String.format("%s#%d %s [%x,%x) footprint [%x,%x)%s", op.label(), id, mode, start, end,
                footprintStart, footprintEnd, actor == null ? "" : " by " + actor);
    }
}
