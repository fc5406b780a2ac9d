package dev.mmlab.conformance;

import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.api.sim.VirtualScheduler;
import java.time.Duration;

/**
 * Runs the {@link ConcurrentWorkload} through seeded schedules of an exploring {@link VirtualScheduler}: schedule
 * {@code i} uses seed {@code firstSeed + i} for both the interleaving and the workers' random choices, so a
 * failing seed alone reproduces it.
 *
 * @param workers worker threads (a /proc reader runs beside them)
 * @param virtualDuration how long each schedule runs in virtual time
 * @param preemptOneIn the chance of a preemption at each seam call, one in this many
 */
public record ScheduleExplorer(int workers, Duration virtualDuration, int preemptOneIn) {
    /** Prices the steps; in exploring, costs only decide when timed waits and the run end. */
    private static final CostProfile PROFILE = CostProfile.named(CostProfile.DEFAULT);
    /**
     * What the kit runs: three workers for one virtual millisecond, a preemption at one seam call in 64 (of 1 in
     * 4, 16 and 64, the one that caught the kit's never-validating mutant in the most schedules: 13 of 200).
     */
    public static final ScheduleExplorer DEFAULT = new ScheduleExplorer(3, Duration.ofMillis(1), 64);

    /** The outcome of exploring: how many schedules ran, and the first that failed (its seed and report). */
    public record Outcome(int schedules, long ops, Long failingSeed, ConcurrentWorkload.Report failure) {
        @Override
        public String toString() {
            return failure == null ? schedules + " schedules, " + ops + " operations, no failure"
                    : "schedule seed " + failingSeed + " fails (after " + schedules + " schedules): " + failure;
        }
    }

    /** Runs up to {@code schedules} schedules of {@code sut} from {@code firstSeed}, stopping at the first failure. */
    public Outcome explore(StrategyUnderTest sut, int schedules, long firstSeed) {
        long ops = 0;
        for (int i = 0; i < schedules; i++) {
            long seed = firstSeed + i;
            ConcurrentWorkload.Report report = runOne(sut, seed);
            ops += report.ops();
            if (!report.clean()) {
                return new Outcome(i + 1, ops, seed, report);
            }
        }
        return new Outcome(schedules, ops, null, null);
    }

    /** The schedule {@code seed} of {@code sut}. */
    public ConcurrentWorkload.Report runOne(StrategyUnderTest sut, long seed) {
        VirtualScheduler scheduler = VirtualScheduler.exploring(PROFILE, seed, preemptOneIn);
        try {
            return new ConcurrentWorkload(sut, workers, virtualDuration, seed, scheduler).run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while exploring schedules", e);
        }
    }
}
