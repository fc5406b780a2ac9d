package dev.mmlab.bench.scenario;

import dev.mmlab.api.sync.Sched;

/**
 * The phases of one run as worker threads see them: warm-up (nothing recorded), the measured window
 * {@code [start, end)} in {@link Sched#nanoTime} units (wall or virtual), and stop. Written by the runner's thread only; read by
 * every worker through volatile loads, so a worker sees the window open at most one operation late.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Three volatile fields, each set once, from "not yet" to its value: the
 *       window's bounds by the runner's thread only; {@code stop} by the runner, or by any worker that failed
 *       (so the others stop too), all writing the same {@code true}.</li>
 *   <li><b>Lock order.</b> none: takes no lock; workers read it between engine calls.</li>
 *   <li><b>What a reader may see mid-update.</b> The window opened or closed up to one operation late; an
 *       operation is counted by the time it began, so one that straddles an edge is in or out as a whole.</li>
 * </ul>
 */
public final class MeasureWindow {
    private volatile long startNanos = Long.MAX_VALUE;
    private volatile long endNanos = Long.MAX_VALUE;
    private volatile boolean stop;
    private final boolean virtualClock;

    /** A wall-clock window, opened and closed by the runner. */
    public MeasureWindow() {
        this(false);
    }

    private MeasureWindow(boolean virtualClock) {
        this.virtualClock = virtualClock;
    }

    /**
     * A virtual-time window {@code [startNanos, endNanos)}, fixed in advance: each simulated worker stops by
     * itself once its own clock passes the end.
     */
    public static MeasureWindow virtual(long startNanos, long endNanos) {
        MeasureWindow w = new MeasureWindow(true);
        w.startNanos = startNanos;
        w.endNanos = endNanos;
        return w;
    }

    /** Opens the measured window now. Called by the runner only. */
    public void open(long now) {
        startNanos = now;
    }

    /** Closes the measured window now. Called by the runner only. */
    public void close(long now) {
        endNanos = now;
    }

    /** Asks every worker to return from its current step. */
    public void stop() {
        stop = true;
    }

    public boolean stopping() {
        return stop || virtualClock && Sched.nanoTime() >= endNanos;
    }

    /** Whether an operation that began at {@code nanos} belongs to the measured window. */
    public boolean contains(long nanos) {
        return nanos >= startNanos && nanos < endNanos;
    }
}
