package dev.mmlab.api.mem;

import dev.mmlab.api.sync.Sched;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * How long a device read or a reclaim stall takes: fixed, uniform between two bounds, or exponential with
 * a mean. {@link #sleep} is a real sleeping wait (it models I/O, so the waiting thread yields its CPU).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> nothing to protect: every model is immutable; the random source is the
 *       caller's (one per thread in {@link BlockDevice} and {@link PageAllocator}).</li>
 *   <li><b>Lock order.</b> none: takes no lock. {@link #sleep} parks the calling thread with
 *       {@link LockSupport#parkNanos} and keeps whatever locks the caller holds; it is not interruptible and
 *       restores the interrupt flag.</li>
 * </ul>
 */
public abstract class LatencyModel {
    private LatencyModel() {}

    /** Nanoseconds for one wait. */
    public abstract long sampleNanos(SplittableRandom random);

    /** Sleep for one sampled latency. Keeps sleeping through interrupts (I/O is not interruptible here) and restores the flag. */
    public final void sleep(SplittableRandom random) {
        long nanos = sampleNanos(random);
        if (nanos <= 0) {
            return;
        }
        Sched.sleepNanos(nanos);
    }

    public static LatencyModel none() {
        return fixed(0);
    }

    public static LatencyModel fixed(long nanos) {
        requireNonNegative(nanos);
        return new LatencyModel() {
            @Override
            public long sampleNanos(SplittableRandom random) {
                return nanos;
            }

            @Override
            public String toString() {
                return "fixed:" + format(nanos);
            }
        };
    }

    public static LatencyModel uniform(long minNanos, long maxNanos) {
        requireNonNegative(minNanos);
        if (maxNanos < minNanos) {
            throw new IllegalArgumentException("uniform latency needs min <= max, got " + minNanos + " > " + maxNanos);
        }
        return new LatencyModel() {
            @Override
            public long sampleNanos(SplittableRandom random) {
                return minNanos == maxNanos ? minNanos : random.nextLong(minNanos, maxNanos + 1);
            }

            @Override
            public String toString() {
                return "uniform:" + format(minNanos) + ".." + format(maxNanos);
            }
        };
    }

    public static LatencyModel exponential(long meanNanos) {
        requireNonNegative(meanNanos);
        return new LatencyModel() {
            @Override
            public long sampleNanos(SplittableRandom random) {
                return (long) (-Math.log(1 - random.nextDouble()) * meanNanos);
            }

            @Override
            public String toString() {
                return "exp:" + format(meanNanos);
            }
        };
    }

    /**
     * Parses {@code 2ms}, {@code fixed:2ms}, {@code uniform:1ms..5ms}, {@code exp:3ms}; units ns, us, ms, s.
     *
     * @throws IllegalArgumentException naming the accepted forms
     */
    public static LatencyModel parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.startsWith("uniform:")) {
                String[] bounds = t.substring(8).split("\\.\\.");
                if (bounds.length != 2) {
                    throw new IllegalArgumentException("missing '..'");
                }
                return uniform(parseDuration(bounds[0]), parseDuration(bounds[1]));
            }
            if (t.startsWith("exp:")) {
                return exponential(parseDuration(t.substring(4)));
            }
            if (t.startsWith("fixed:")) {
                t = t.substring(6);
            }
            return fixed(parseDuration(t));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("bad latency '" + text + "' (" + e.getMessage()
                    + "); use e.g. 2ms, fixed:500us, uniform:1ms..5ms or exp:3ms", e);
        }
    }

    static long parseDuration(String text) {
        String t = text.trim();
        String[][] units = {{"ns", "1"}, {"us", "1000"}, {"ms", "1000000"}, {"s", "1000000000"}};
        for (String[] unit : units) {
            if (t.endsWith(unit[0]) && !(unit[0].equals("s") && (t.endsWith("ns") || t.endsWith("us") || t.endsWith("ms")))) {
                double value = Double.parseDouble(t.substring(0, t.length() - unit[0].length()).trim());
                long nanos = (long) (value * Long.parseLong(unit[1]));
                requireNonNegative(nanos);
                return nanos;
            }
        }
        throw new IllegalArgumentException("no unit in '" + text + "'");
    }

    private static void requireNonNegative(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("latency must not be negative");
        }
    }

    static String format(long nanos) {
        if (nanos % 1_000_000 == 0) {
            return TimeUnit.NANOSECONDS.toMillis(nanos) + "ms";
        }
        if (nanos % 1_000 == 0) {
            return TimeUnit.NANOSECONDS.toMicros(nanos) + "us";
        }
        return nanos + "ns";
    }
}
