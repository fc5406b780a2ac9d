package dev.mmlab.bench.replay;

import dev.mmlab.api.sim.CostProfile;

/**
 * How to replay a trace.
 *
 * @param pid the process to replay, or {@link #DEFAULT_PID} for the trace's default (the one with the most events)
 * @param timing how events are scheduled
 * @param speed for {@link ReplayTiming#ORIGINAL}: traced gaps are divided by this (2 replays twice as fast); > 0
 * @param virtualClock null to replay on the wall clock (Java threads on this machine); else the cost profile of a
 *     virtual-time replay, in which each traced thread is a simulated thread on a core of its own and every
 *     figure (latencies, waits, the replay's duration, the gaps of {@link ReplayTiming#ORIGINAL}) is virtual.
 *     Needs {@link ReplayTiming#ASAP} or {@link ReplayTiming#ORIGINAL}
 * @param seed under the virtual clock, orders simulated threads whose clocks are equal; ignored on the wall clock
 */
public record ReplayOptions(int pid, ReplayTiming timing, double speed, CostProfile virtualClock, long seed) {
    /** Use the trace's default pid. */
    public static final int DEFAULT_PID = -1;
    /** The seed of a virtual-time replay unless told otherwise (as for {@code compare}). */
    public static final long DEFAULT_SEED = 42;

    public ReplayOptions {
        if (timing == null) {
            throw new IllegalArgumentException("timing is required");
        }
        if (!(speed > 0) || Double.isInfinite(speed)) {
            throw new IllegalArgumentException("speed must be a positive number, got " + speed);
        }
        if (virtualClock != null && timing == ReplayTiming.SERIAL) {
            // Serial replay is the calling thread walking the file: nothing runs concurrently, so there is
            // nothing for simulated cores to decide, and fidelity is judged in it already.
            throw new IllegalArgumentException("--clock virtual needs --timing asap or original");
        }
    }

    /** Wall-clock options. */
    public ReplayOptions(int pid, ReplayTiming timing, double speed) {
        this(pid, timing, speed, null, DEFAULT_SEED);
    }

    /** Serial replay of the default pid. */
    public static ReplayOptions serial() {
        return new ReplayOptions(DEFAULT_PID, ReplayTiming.SERIAL, 1.0);
    }

    public ReplayOptions withTiming(ReplayTiming newTiming) {
        return new ReplayOptions(pid, newTiming, speed, virtualClock, seed);
    }

    /** These options in virtual time, priced by {@code profile}, ties ordered by {@code newSeed}. */
    public ReplayOptions withVirtualClock(CostProfile profile, long newSeed) {
        if (profile == null) {
            throw new IllegalArgumentException("profile is required");
        }
        return new ReplayOptions(pid, timing, speed, profile, newSeed);
    }

    /** Whether the replay runs in virtual time. */
    public boolean virtual() {
        return virtualClock != null;
    }
}
