package dev.mmlab.bench.calibrate;

import java.util.Arrays;

/** The median of repeated timings: one slow repetition (a GC, a neighbour's burst) does not move it. */
final class Medians {
    private Medians() {}

    static double of(double[] samples) {
        if (samples.length == 0) {
            throw new IllegalArgumentException("no samples");
        }
        double[] sorted = samples.clone();
        Arrays.sort(sorted);
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
