package dev.mmlab.api.mem;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A block device under a file's page cache. A read sleeps for a latency drawn from its model and fails with
 * EIO with a given probability. Thread-safe; {@link #readPage} sleeps and takes no mm lock.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Configuration is final. Each thread draws latencies and errors from its own
 *       {@link SplittableRandom}, split from the seeded root on first use under the root's monitor (the only
 *       lock here, held for one split). The read and error counts are {@link AtomicLong}s.</li>
 *   <li><b>Lock order.</b> the root's monitor is a leaf. {@link #readPage} sleeps holding nothing of its own;
 *       its callers (a page-cache miss, a driver fault) hold no PTL, but may hold an mm lock, which is what a
 *       fault without fault retry pays for.</li>
 * </ul>
 */
public final class BlockDevice {
    private final String name;
    private final int major;
    private final int minor;
    private final LatencyModel latency;
    private final double errorRate;
    private final ThreadLocal<SplittableRandom> random;
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();

    public BlockDevice(String name, int major, int minor, LatencyModel latency, double errorRate, long seed) {
        if (errorRate < 0 || errorRate > 1) {
            throw new IllegalArgumentException("errorRate must be within [0, 1], got " + errorRate);
        }
        this.name = name;
        this.major = major;
        this.minor = minor;
        this.latency = latency;
        this.errorRate = errorRate;
        SplittableRandom root = new SplittableRandom(seed);
        this.random = ThreadLocal.withInitial(() -> {
            synchronized (root) {
                return root.split();
            }
        });
    }

    /** A device that answers at once and never fails. */
    public static BlockDevice instant(String name, int major, int minor) {
        return new BlockDevice(name, major, minor, LatencyModel.none(), 0, 0);
    }

    /** Reads one page: sleeps for the device latency. Returns false on an I/O error (EIO). */
    public boolean readPage() {
        reads.incrementAndGet();
        SplittableRandom r = random.get();
        latency.sleep(r);
        if (errorRate > 0 && r.nextDouble() < errorRate) {
            errors.incrementAndGet();
            return false;
        }
        return true;
    }

    public String name() {
        return name;
    }

    public int major() {
        return major;
    }

    public int minor() {
        return minor;
    }

    public LatencyModel latency() {
        return latency;
    }

    public long readCount() {
        return reads.get();
    }

    public long errorCount() {
        return errors.get();
    }
}
