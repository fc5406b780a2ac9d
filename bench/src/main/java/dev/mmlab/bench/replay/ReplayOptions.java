package dev.mmlab.bench.replay;

/**
 * How to replay a trace.
 *
 * @param pid the process to replay, or {@link #DEFAULT_PID} for the trace's default (the one with the most events)
 * @param timing how events are scheduled
 * @param speed for {@link ReplayTiming#ORIGINAL}: traced gaps are divided by this (2 replays twice as fast); > 0
 */
public record ReplayOptions(int pid, ReplayTiming timing, double speed) {
    /** Use the trace's default pid. */
    public static final int DEFAULT_PID = -1;

    public ReplayOptions {
        if (timing == null) {
            throw new IllegalArgumentException("timing is required");
        }
        if (!(speed > 0) || Double.isInfinite(speed)) {
            throw new IllegalArgumentException("speed must be a positive number, got " + speed);
        }
    }

    /** Serial replay of the default pid. */
    public static ReplayOptions serial() {
        return new ReplayOptions(DEFAULT_PID, ReplayTiming.SERIAL, 1.0);
    }

    public ReplayOptions withTiming(ReplayTiming newTiming) {
        return new ReplayOptions(pid, newTiming, speed);
    }
}
