package dev.mmlab.bench.replay;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The outcome of replaying one process of a trace under one strategy.
 *
 * @param source the trace file
 * @param pid the replayed process
 * @param strategy the strategy spec, e.g. {@code rwsem} or {@code rwsem:faultRetry=false}
 * @param images address spaces replayed (1 + the number of execs after the first)
 * @param elapsedNanos how long the replay took on its clock, setup of each image included: wall time, or under the
 *     virtual clock the sum over the images of the virtual time their simulated threads took
 * @param operations per operation ({@code mmap}, {@code fault}, ...): count, rate and latency, on the replay's clock
 * @param counters the engine's and the strategy's counters, summed over the images
 * @param lockUse how the operations were locked, per operation kind and use ({@code read}, {@code write},
 *     {@code none}, {@code fallback}, {@code retry}; the api's {@code LockUse}), summed over the images
 * @param waits lock waits, summed over the images
 * @param invariantViolations violations {@code InvariantChecker} found at the end of each image, as text
 * @param finalMaps {@code /proc/pid/maps} of the last image at the end
 * @param forkPrefix the parent's steps replayed before the process's first image when it started as a fork;
 *     {@link ForkPrefix#none()} otherwise
 * @param profile under the virtual clock, the cost profile's name and hash; null on the wall clock
 * @param seed under the virtual clock, the seed that ordered simulated threads with equal clocks; 0 on the wall clock
 */
public record ReplayResult(
        String source,
        int pid,
        String strategy,
        ReplayTiming timing,
        double speed,
        int images,
        Fidelity fidelity,
        long elapsedNanos,
        Map<String, OpStats> operations,
        Map<String, Long> counters,
        Map<String, Map<String, Long>> lockUse,
        WaitStats waits,
        List<String> invariantViolations,
        String finalMaps,
        ForkPrefix forkPrefix,
        Profile profile,
        long seed) {

    public ReplayResult {
        operations = Map.copyOf(operations);
        counters = Map.copyOf(counters);
        lockUse = Collections.unmodifiableMap(new TreeMap<>(lockUse));
        invariantViolations = List.copyOf(invariantViolations);
        if (forkPrefix == null) {
            throw new IllegalArgumentException("forkPrefix is required; use ForkPrefix.none()");
        }
    }

    /**
     * The ancestors' steps replayed, serially, to build a forked process's first address space (its parent's
     * events up to the fork, and the fork). They are not the replayed process's events: they are kept out of
     * {@link ReplayResult#fidelity()}, {@link ReplayResult#operations()}, {@link ReplayResult#counters()},
     * {@link ReplayResult#waits()} and {@link ReplayResult#elapsedNanos()}, and reported here.
     *
     * @param parentPid the parent the process was forked from, or -1 when the process did not start as a fork
     * @param forkLineNo the trace line of the fork record; 0 when none
     * @param fidelity how the prefix replayed (a difference there means the child started from a different
     *     address space than the kernel's)
     * @param elapsedNanos time spent replaying the prefix, the fork included, on the replay's clock
     */
    public record ForkPrefix(int parentPid, int forkLineNo, Fidelity fidelity, long elapsedNanos) {
        /** No prefix: the process's first address space started empty. */
        public static ForkPrefix none() {
            return new ForkPrefix(-1, 0, new Fidelity(), 0);
        }

        /** Whether the process started as its parent's fork. */
        public boolean present() {
            return parentPid >= 0;
        }
    }

    /** The cost profile a virtual-time replay used. */
    public record Profile(String name, String hash) {}

    /** {@code virtual} when the replay ran in virtual time, else {@code wall}. */
    public String clock() {
        return profile == null ? "wall" : "virtual";
    }

    /** Whether the replay ran in virtual time. */
    public boolean virtual() {
        return profile != null;
    }

    /**
     * Latency and throughput of one kind of operation.
     *
     * @param perSecond operations per second of replay time (wall or virtual, as the replay ran)
     */
    public record OpStats(long count, double perSecond, double meanMicros, double p50Micros, double p99Micros,
            double maxMicros) {}

    /**
     * Lock waits: how many, how many were false conflicts (no blocker's footprint overlapped the waiter's),
     * and the time spent in each (on the replay's clock).
     */
    public record WaitStats(long count, long falseConflicts, long waitNanos, long falseConflictWaitNanos) {}

    /** Syscalls per second of replay time. */
    public double syscallsPerSecond() {
        return elapsedNanos == 0 ? 0 : fidelity.syscalls() * 1e9 / elapsedNanos;
    }
}
