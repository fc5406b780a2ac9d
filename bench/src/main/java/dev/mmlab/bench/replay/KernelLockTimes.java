package dev.mmlab.bench.replay;

import dev.mmlab.bench.replay.ReplayScript.Image;
import dev.mmlab.bench.replay.ReplayScript.Step;
import dev.mmlab.bench.trace.MmapLockEvent;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * How long the kernel held and waited for the mmap_lock in a recorded trace, for read and for write, from the same
 * events {@link KernelLockUse} counts (those {@link ReplayScript} attached to a traced syscall, a fault or an exec; a fork
 * prefix's are the parent's and left out).
 *
 * <ul>
 *   <li><b>Hold</b>: a successful {@code mmap_lock_acquire_returned} to the same thread's next
 *       {@code mmap_lock_released}. {@code mmap_write_downgrade()}'s read grant while the write lock is held is not
 *       a new hold: the write hold runs on to the (read) release, as {@link KernelLockUse} counts it once. A grant
 *       whose release is not among the attached events has no hold.</li>
 *   <li><b>Wait</b>: {@code mmap_lock_start_locking} to the same thread's next {@code acquire_returned}, when that
 *       one succeeded. A failed attempt is not a wait: 6.18 traces {@code mmap_read_trylock()} with a start too,
 *       and in the recorded traces the failures are such trylocks (0 or 1 µs, each followed by a real wait for the
 *       same fault), which would otherwise double the read waits.</li>
 * </ul>
 *
 * <p>perf script prints microseconds, so every time here is a multiple of 1 µs and a sub-microsecond hold reads 0.
 */
public final class KernelLockTimes {
    /** Above this a time is clamped before recording: a minute is not a plausible mmap_lock hold or wait. */
    private static final long MAX_TRACKED_NS = 60_000_000_000L;
    /** Four digits keep every whole microsecond exact up to 131 µs (three would round 23 µs down to 22.992). */
    private static final int SIGNIFICANT_DIGITS = 4;

    /**
     * A distribution of times.
     *
     * @param maxNs exact
     * @param totalNs the exact sum, to set beside the model's summed waits
     */
    public record Summary(long count, long p50Ns, long p99Ns, long maxNs, long totalNs) {
        static Summary of(Histogram h, long maxNs, long totalNs) {
            if (h.getTotalCount() == 0) {
                return new Summary(0, 0, 0, 0, 0);
            }
            // HdrHistogram answers a bucket's highest value. Its lowest is the recorded value itself for every whole
            // microsecond (perf's resolution) up to 131 µs, and at most 0.01% below it above that.
            return new Summary(h.getTotalCount(), h.lowestEquivalentValue(h.getValueAtPercentile(50)),
                    h.lowestEquivalentValue(h.getValueAtPercentile(99)), maxNs, totalNs);
        }

        /** The JSON shape: {@code p50Ns, p99Ns, maxNs, count, totalNs}. */
        public Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("p50Ns", p50Ns);
            m.put("p99Ns", p99Ns);
            m.put("maxNs", maxNs);
            m.put("count", count);
            m.put("totalNs", totalNs);
            return m;
        }
    }

    /** The hold and wait times of one side of the lock ({@code waiting}: {@code wait} is taken by Object). */
    public record Side(Summary hold, Summary waiting) {}

    private final Side read;
    private final Side write;

    private KernelLockTimes(Side read, Side write) {
        this.read = read;
        this.write = write;
    }

    /** The kernel's hold and wait times in {@code script}'s images. */
    public static KernelLockTimes of(ReplayScript script) {
        // Steps are in lock order, not file order, and a hold may end in a later step of the thread: pair by line.
        Map<Integer, List<MmapLockEvent>> eventsByTid = new TreeMap<>();
        for (Image image : script.images()) {
            for (MmapLockEvent e : image.execLockEvents()) {
                eventsByTid.computeIfAbsent(e.tid(), t -> new ArrayList<>()).add(e);
            }
            for (Step step : image.steps()) {
                for (MmapLockEvent e : step.lockEvents()) {
                    eventsByTid.computeIfAbsent(e.tid(), t -> new ArrayList<>()).add(e);
                }
            }
        }
        Recording readHold = new Recording();
        Recording readWait = new Recording();
        Recording writeHold = new Recording();
        Recording writeWait = new Recording();
        for (List<MmapLockEvent> events : eventsByTid.values()) {
            events.sort(Comparator.comparingInt(MmapLockEvent::lineNo));
            MmapLockEvent start = null;
            MmapLockEvent grant = null;
            for (MmapLockEvent e : events) {
                switch (e.kind()) {
                    case START -> start = e;
                    case ACQUIRED -> {
                        boolean waited = start != null;
                        if (waited && e.success()) {
                            (start.write() ? writeWait : readWait).add(e.timeNs() - start.timeNs());
                        }
                        start = null;
                        // A downgrade's read grant comes straight after the write grant, with no start_locking.
                        // Any other grant while one is open means that one's release was not attached (exec's
                        // mappings, right after a fault, are): it is dropped rather than stretched to this release.
                        boolean downgrade = grant != null && grant.write() && !e.write() && !waited;
                        if (e.success() && !downgrade) {
                            grant = e;
                        }
                    }
                    case RELEASED -> {
                        if (grant != null) {
                            (grant.write() ? writeHold : readHold).add(e.timeNs() - grant.timeNs());
                            grant = null;
                        }
                    }
                }
            }
        }
        return new KernelLockTimes(new Side(readHold.summary(), readWait.summary()),
                new Side(writeHold.summary(), writeWait.summary()));
    }

    /** Whether any hold or wait was seen (otherwise the trace has no mmap_lock events for the process). */
    public boolean recorded() {
        return read.hold.count() + read.waiting.count() + write.hold.count() + write.waiting.count() > 0;
    }

    public Side read() {
        return read;
    }

    public Side write() {
        return write;
    }

    /** The JSON shape: {@code {read: {hold: {...}, wait: {...}}, write: {...}}}. */
    public Map<String, Object> json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("read", sideJson(read));
        m.put("write", sideJson(write));
        return m;
    }

    private static Map<String, Object> sideJson(Side side) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hold", side.hold().json());
        m.put("wait", side.waiting().json());
        return m;
    }

    /** One histogram being filled, with the exact sum HdrHistogram does not keep. */
    private static final class Recording {
        private final Histogram histogram = new Histogram(MAX_TRACKED_NS, SIGNIFICANT_DIGITS);
        private long maxNs;
        private long totalNs;

        void add(long ns) {
            // A negative gap would be a parsing error; clamp rather than fail the whole report on it.
            long clamped = Math.max(0, Math.min(ns, MAX_TRACKED_NS));
            histogram.recordValue(clamped);
            maxNs = Math.max(maxNs, clamped);
            totalNs += clamped;
        }

        Summary summary() {
            return Summary.of(histogram, maxNs, totalNs);
        }
    }
}
