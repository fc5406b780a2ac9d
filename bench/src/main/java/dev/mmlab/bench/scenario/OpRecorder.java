package dev.mmlab.bench.scenario;

import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.HdrHistogram.Histogram;

/**
 * One worker thread's latency recorder: one HdrHistogram per operation name, owned by that thread and merged
 * by the runner after {@code join()} (never a shared histogram). Only operations that began inside the
 * measured window are recorded. Not thread-safe: it belongs to its worker.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Confinement, no lock: the histograms and the set of operations seen are
 *       written only by the worker's thread, and read by the runner after {@code join()}, which orders every
 *       write before the read (a worker that did not stop even when interrupted is read racily, in a run
 *       already reported as failed). The only shared state it reads is the {@link MeasureWindow}
 *       (volatile).</li>
 *   <li><b>Lock order.</b> none: takes no lock. A worker records after its engine call returned, holding no
 *       lock of the address space.</li>
 * </ul>
 */
public final class OpRecorder {
    /** Three significant digits; auto-resizing so rare multi-second outliers still fit. */
    private static final int DIGITS = 3;

    private final MeasureWindow window;
    private final Map<String, Histogram> histograms = new HashMap<>();
    private final Set<String> seen = new HashSet<>();

    public OpRecorder(MeasureWindow window) {
        this.window = window;
    }

    /** The start time of an operation; pass it to {@link #record}. */
    public long start() {
        return Sched.nanoTime();
    }

    /** Records operation {@code op} that began at {@code startNanos} and ends now. */
    public void record(String op, long startNanos) {
        long end = Sched.nanoTime();
        seen.add(op);
        if (window.contains(startNanos)) {
            histogram(op).recordValue(Math.max(1, end - startNanos));
        }
        Sched.cost(Cost.RECORD); // after the end: the recording is between operations, as on the wall clock
    }

    /** Whether the run is over: a step that loops internally returns soon after this turns true. */
    public boolean stopping() {
        return window.stopping();
    }

    private Histogram histogram(String op) {
        Histogram h = histograms.get(op);
        if (h == null) {
            h = new Histogram(DIGITS);
            h.setAutoResize(true);
            histograms.put(op, h);
        }
        return h;
    }

    /**
     * Every operation this worker completed, in the window or not: an operation that never completed inside the
     * window still shows, with count 0. Read by the runner after join.
     */
    public Set<String> seen() {
        return seen;
    }

    /** The histograms by operation; read by the runner after this worker's thread has been joined. */
    public Map<String, Histogram> histograms() {
        return histograms;
    }
}
