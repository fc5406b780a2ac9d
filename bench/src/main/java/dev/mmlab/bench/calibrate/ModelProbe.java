package dev.mmlab.bench.calibrate;

import dev.mmlab.api.sync.Cost;
import dev.mmlab.bench.scenario.MeasureWindow;
import dev.mmlab.bench.scenario.OpRecorder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Measures the model's own step costs in this JVM, so that a virtual-time run at one or two cores predicts
 * what the wall clock measures here: the lock steps by Java microbenchmarks ({@link LockMicrobenchmarks}),
 * the engine steps by a fit.
 *
 * <p>The fit: each {@link EngineWorkload} is timed on the wall clock (after a warm-up, so that the JIT has
 * compiled it; the median of several repetitions, each in a fresh address space), then run once more on a
 * thread whose seam calls are counted ({@link StepCounter}). The time of the lock steps a workload did (its
 * reads at {@link Cost#READ_LOCAL}, its writes and lock operations at {@link Cost#ATOMIC_LOCAL}, as the
 * virtual clock prices a line no other core holds) is taken out of its time, and the rest is fitted as
 * {@code time ≈ Σ count(step) · cost(step)} by non-negative least squares, each workload's equation divided
 * by its time so that every workload weighs the same and the residual is relative. The fit's relative
 * residual per workload goes into the profile's header.
 *
 * <p>All timing happens before any counting: counting switches the seam on for the whole JVM
 * ({@link StepCounter}), which would slow every later fault by its checks.
 */
public final class ModelProbe {
    /** The steps the virtual clock charges for locks and cache lines, measured directly, not fitted. */
    private static final Set<Cost> LOCK_STEPS = EnumSet.of(Cost.ATOMIC_LOCAL, Cost.READ_LOCAL, Cost.LINE_TRANSFER,
            Cost.WAKEUP, Cost.SPIN_HANDOFF, Cost.SPIN, Cost.RECORD);

    private final boolean quick;
    /**
     * How long every workload runs, round after round, before any is timed: the engine's paths must be
     * compiled by C2 (thousands of calls each), or the fit prices the interpreter.
     */
    private final long warmupNanos;
    private final int reps;
    private final int pages;
    private int warmupRounds;

    public ModelProbe(boolean quick) {
        this.quick = quick;
        this.warmupNanos = quick ? 1_500_000_000L : 8_000_000_000L;
        this.reps = quick ? 5 : 11;
        this.pages = quick ? 1024 : 4096;
    }

    public Calibration measure() {
        List<EngineWorkload> workloads = EngineWorkload.all(pages);
        double[] nanos = time(workloads);
        Map<Cost, StepEstimate> steps = new EnumMap<>(Cost.class);
        steps.putAll(new LockMicrobenchmarks(quick).measure());
        steps.put(Cost.RECORD, new StepEstimate(Cost.RECORD, recording(),
                "the scenario harness's OpRecorder: start, record and the stop check of one operation in a loop, ns "
                        + "each, median of " + reps));
        List<StepCounter.Counts> counts = new ArrayList<>();
        for (EngineWorkload w : workloads) {
            Runnable body = w.setup().apply(EngineWorkload.freshContext());
            counts.add(StepCounter.count(body));
        }
        List<String> notes = new ArrayList<>();
        fit(workloads, nanos, counts, steps, notes);
        return new Calibration("model", steps, notes);
    }

    /** ns per operation the scenario harness spends around it on the wall clock: timing, recording, stop check. */
    private double recording() {
        MeasureWindow window = new MeasureWindow();
        window.open(System.nanoTime());
        OpRecorder recorder = new OpRecorder(window);
        int ops = quick ? 200_000 : 2_000_000;
        double[] samples = new double[reps + 1];
        for (int r = 0; r < samples.length; r++) {
            long t = System.nanoTime();
            for (int i = 0; i < ops && !recorder.stopping(); i++) {
                recorder.record("op", recorder.start());
            }
            samples[r] = (System.nanoTime() - t) / (double) ops;
        }
        return Medians.of(Arrays.copyOfRange(samples, 1, samples.length)); // the first warms up
    }

    /**
     * The median wall-clock nanoseconds of each workload's timed part, after the warm-up; the workloads are
     * interleaved, so that a slow spell of the machine spreads over all of them.
     */
    private double[] time(List<EngineWorkload> workloads) {
        long warmEnd = System.nanoTime() + warmupNanos;
        for (int round = 0; round < 2 || System.nanoTime() < warmEnd; round++) {
            for (EngineWorkload w : workloads) {
                w.setup().apply(EngineWorkload.freshContext()).run();
            }
            warmupRounds = round + 1;
        }
        double[][] samples = new double[workloads.size()][reps];
        for (int round = 0; round < reps; round++) {
            for (int i = 0; i < workloads.size(); i++) {
                Runnable body = workloads.get(i).setup().apply(EngineWorkload.freshContext());
                long t = System.nanoTime();
                body.run();
                samples[i][round] = System.nanoTime() - t;
            }
        }
        double[] out = new double[workloads.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = Medians.of(samples[i]);
        }
        return out;
    }

    private void fit(List<EngineWorkload> workloads, double[] nanos, List<StepCounter.Counts> counts,
            Map<Cost, StepEstimate> steps, List<String> notes) {
        double atomic = steps.get(Cost.ATOMIC_LOCAL).nanos();
        double read = steps.get(Cost.READ_LOCAL).nanos();
        List<Cost> unknowns = new ArrayList<>();
        for (Cost c : Cost.values()) {
            if (!LOCK_STEPS.contains(c) && counts.stream().anyMatch(n -> n.of(c) > 0)) {
                unknowns.add(c);
            }
        }
        List<Integer> rows = new ArrayList<>();
        double[] engine = new double[workloads.size()];
        for (int i = 0; i < workloads.size(); i++) {
            StepCounter.Counts n = counts.get(i);
            engine[i] = nanos[i] - n.reads() * read - (n.writes() + n.lockOps()) * atomic;
            if (engine[i] > 0) {
                rows.add(i);
            } else {
                notes.add("workload " + workloads.get(i).name() + " left out of the fit: its lock steps alone take "
                        + "its whole time");
            }
        }
        double[][] a = new double[rows.size()][unknowns.size()];
        double[] b = new double[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            int i = rows.get(r);
            for (int j = 0; j < unknowns.size(); j++) {
                a[r][j] = counts.get(i).of(unknowns.get(j)) / engine[i];
            }
            b[r] = 1;
        }
        double[] x = NonNegativeLeastSquares.solve(a, b);

        StringBuilder residuals = new StringBuilder("fit residual per workload (predicted/measured - 1):");
        for (int r = 0; r < rows.size(); r++) {
            double predicted = 0;
            for (int j = 0; j < unknowns.size(); j++) {
                predicted += a[r][j] * x[j];
            }
            residuals.append(String.format(" %s %+.1f%%", workloads.get(rows.get(r)).name(), (predicted - 1) * 100));
        }
        notes.add("model probe: " + ProbeAddressSpace.STRATEGY + " strategy, single thread, " + workloads.size()
                + " workloads timed on the wall clock (after " + warmupRounds + " warm-up rounds, " + warmupNanos / 1_000_000_000.0
                + " s; median of " + reps + "), steps "
                + "counted through the seam, lock steps taken out, engine steps fitted by non-negative least squares");
        notes.add(residuals.toString());
        for (int j = 0; j < unknowns.size(); j++) {
            Cost c = unknowns.get(j);
            steps.put(c, new StepEstimate(c, x[j], "fitted to " + whereCounted(c, workloads, counts)
                    + ": wall-clock ns in this JVM less lock steps, NNLS" + (x[j] == 0 ? " (the fit puts it at 0: "
                            + "these workloads cannot tell it from the steps it comes with)" : "")
                    + ", median of " + reps));
        }
    }

    /** The workloads that do {@code step}, most of it first: "anon-write, fork-pages and 3 more". */
    private static String whereCounted(Cost step, List<EngineWorkload> workloads, List<StepCounter.Counts> counts) {
        List<Integer> doing = new ArrayList<>();
        for (int i = 0; i < workloads.size(); i++) {
            if (counts.get(i).of(step) > 0) {
                doing.add(i);
            }
        }
        doing.sort((p, q) -> Long.compare(counts.get(q).of(step), counts.get(p).of(step)));
        List<String> names = doing.stream().limit(3).map(i -> workloads.get(i).name()).toList();
        return String.join(", ", names) + (doing.size() > 3 ? " and " + (doing.size() - 3) + " more" : "");
    }
}
