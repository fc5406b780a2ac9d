package dev.mmlab.bench.run;

import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.check.Violation;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.api.sim.SimulationException;
import dev.mmlab.api.sim.VirtualScheduler;
import dev.mmlab.api.stats.LockWaitRecorder;
import dev.mmlab.api.sync.Sched;
import dev.mmlab.bench.UsageException;
import dev.mmlab.bench.scenario.MeasureWindow;
import dev.mmlab.bench.scenario.OpRecorder;
import dev.mmlab.bench.scenario.Role;
import dev.mmlab.bench.scenario.Scenario;
import dev.mmlab.bench.scenario.ScenarioContext;
import dev.mmlab.bench.scenario.ScenarioParams;
import dev.mmlab.bench.scenario.Worker;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.DoubleConsumer;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one scenario under one strategy: a fresh {@link Mm}, the scenario's setup, one thread per role member
 * (the lock-wait recorder labels their waits with their role), a warm-up, a measured window, stop, join,
 * then the invariant checker at the quiescent point.
 *
 * <p>Measurement: each worker records into its own {@link OpRecorder} (one HdrHistogram per operation, never
 * shared); only operations that begin inside the window count; the histograms are merged after {@code join()}.
 * Counters and waits are the difference between snapshots taken when the window opens and closes, so
 * warm-up and setup do not show. The runner's own thread is the only writer of the {@link MeasureWindow}.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The address space protects itself (it is what is measured). Each worker's
 *       {@link OpRecorder} is confined to its thread until {@code join()}. The {@link MeasureWindow}'s bounds
 *       are written by the runner's thread only; a failing worker may also set its stop flag. Every worker
 *       failure is kept in a concurrent queue. The role of each thread is a concurrent map,
 *       filled before the threads start and read by the wait recorder on waiting threads.</li>
 *   <li><b>Lock order.</b> none of its own: the runner's thread holds no lock of the address space while it
 *       sleeps, snapshots, joins or runs the invariant checker (after the join, on the quiescent mm).</li>
 *   <li><b>What a reader may see mid-update.</b> The counter and wait snapshots at the window's edges are
 *       taken while workers run: each figure is exact at some instant during the read, not all at one
 *       instant, which blurs the window's edges by the length of one snapshot.</li>
 * </ul>
 */
public final class Runner {
    private static final Logger LOG = LoggerFactory.getLogger(Runner.class);
    /**
     * The most worker threads one run may have, all roles together: each is a Java thread (a simulated one under
     * the virtual clock is one too), and far beyond this a run spends minutes starting threads and stopping them.
     */
    public static final int MAX_THREADS = 4096;
    /** Most violations kept as sentences in a result. */
    private static final int MAX_DETAILS = 10;

    /**
     * How long to run.
     *
     * @param durationSeconds the measured window
     * @param warmupSeconds before it, unrecorded
     * @param seed seeds every random choice of the scenario
     * @param stopTimeoutSeconds how long workers get to finish their step after the window closes
     * @param selfChecks whether the engine's and strategies' self-checks run during the window
     *        ({@link MmConfig#checking()}: lock assertions, pervma's per-cycle scan of the VMA tree); they cost
     *        in proportion to the VMA count, like a kernel built with CONFIG_DEBUG_VM, so a measurement runs
     *        without them. The invariant checker runs after every run either way.
     * @param virtualClock null to measure on the wall clock; else the cost profile of a virtual-time run, in
     *        which the duration and warm-up are virtual seconds and {@code stopTimeoutSeconds} is how long (real
     *        time) a simulated thread may go without a seam call
     * @param preemptOneIn 0 to run simulated threads in virtual-time order; else the run explores one seeded
     *        schedule ({@link VirtualScheduler#exploring}, the seed is {@code seed}) with this chance of a
     *        preemption at each seam call; needs {@code virtualClock}
     */
    public record Options(double durationSeconds, double warmupSeconds, long seed, double stopTimeoutSeconds,
            boolean selfChecks, CostProfile virtualClock, int preemptOneIn) {
        public Options {
            if (!(durationSeconds > 0) || warmupSeconds < 0 || stopTimeoutSeconds <= 0) {
                throw new UsageException("--duration must be positive and the warm-up not negative");
            }
            if (preemptOneIn < 0 || preemptOneIn > 0 && virtualClock == null) {
                throw new IllegalArgumentException("exploring schedules needs a virtual clock and preemptOneIn >= 1");
            }
        }

        /** Options of a run in virtual-time order ({@code virtualClock} set) or on the wall clock (null). */
        public Options(double durationSeconds, double warmupSeconds, long seed, double stopTimeoutSeconds,
                boolean selfChecks, CostProfile virtualClock) {
            this(durationSeconds, warmupSeconds, seed, stopTimeoutSeconds, selfChecks, virtualClock, 0);
        }

        /** Wall-clock options. */
        public Options(double durationSeconds, double warmupSeconds, long seed, double stopTimeoutSeconds,
                boolean selfChecks) {
            this(durationSeconds, warmupSeconds, seed, stopTimeoutSeconds, selfChecks, null);
        }
    }

    /**
     * Runs {@code scenario} with {@code params} under {@code choice}. Blocks for about warm-up + duration;
     * {@code progress} gets the fraction done (0..1) on this thread now and then.
     *
     * @throws UsageException when the strategy is unsafe-nolock and the scenario not disjoint, or the scenario's
     *         setup rejects the parameters
     */
    public RunResult run(Scenario scenario, ScenarioParams params, StrategyChoice choice, Options options,
            DoubleConsumer progress) {
        if (choice.isUnsafeReference() && !scenario.disjoint(params)) {
            throw new UsageException("unsafe-nolock is valid only for disjoint scenarios and " + scenario.name()
                    + " with these parameters is not (its threads share VMAs); drop --strategy unsafe-nolock");
        }
        return execute(scenario, params, choice, options, progress).result();
    }

    /**
     * A run and, when it explored a schedule ({@link Options#preemptOneIn}), the scheduler's record of the
     * switches before its first worker failure, or before its end.
     */
    public record Checked(RunResult result, List<String> interleaving) {}

    /**
     * {@link #run}, keeping the explored schedule's interleaving: what {@code mmlab check} needs. Unlike a
     * measurement, it runs unsafe-nolock on any scenario: that the checker catches it is the point.
     */
    public Checked check(Scenario scenario, ScenarioParams params, StrategyChoice choice, Options options) {
        return execute(scenario, params, choice, options, f -> { });
    }

    private Checked execute(Scenario scenario, ScenarioParams params, StrategyChoice choice, Options options,
            DoubleConsumer progress) {
        Mm mm = Mm.create(choice.strategy(), choice.config(),
                scenario.mmConfig(params, options.seed()).withChecking(options.selfChecks()));
        ScenarioContext ctx = new ScenarioContext(mm, params, options.seed());
        long warmupNanos = (long) (options.warmupSeconds() * 1e9);
        long durationNanos = (long) (options.durationSeconds() * 1e9);
        MeasureWindow window = options.virtualClock() == null ? new MeasureWindow()
                : MeasureWindow.virtual(warmupNanos, warmupNanos + durationNanos);
        List<String> roleOrder = new ArrayList<>();
        List<Role> roles;
        try {
            roles = scenario.setup(ctx);
        } catch (UsageException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new UsageException(scenario.name() + ": setup failed under " + choice.label() + ": " + e.getMessage()
                    + "; check the --set values", e);
        }
        long threads = roles.stream().mapToLong(Role::threads).sum();
        if (threads > MAX_THREADS) {
            throw new UsageException(scenario.name() + ": " + threads + " threads in all is more than the limit of "
                    + MAX_THREADS + " per run; lower --threads or the roles' --set ROLE=N");
        }
        List<Member> members = new ArrayList<>();
        for (Role role : roles) {
            roleOrder.add(role.name());
            for (int i = 0; i < role.threads(); i++) {
                members.add(new Member(role.name(), i, role.factory().create(i), new OpRecorder(window)));
            }
        }
        if (members.isEmpty()) {
            throw new UsageException(scenario.name() + ": every role has 0 threads; set at least one with --set ROLE=N");
        }
        Map<Thread, String> roleOfThread = new ConcurrentHashMap<>();
        mm.waits().labelTasks(roleOfThread::get);
        Measured measured = options.virtualClock() == null
                ? measureOnWallClock(mm, members, roleOfThread, window, warmupNanos, durationNanos, options, progress)
                : measureInVirtualTime(mm, members, roleOfThread, window, warmupNanos, durationNanos, options);
        progress.accept(1.0);

        List<String> problems = new ArrayList<>();
        String error = measured.error();
        int violations = 0;
        if (error != null) {
            LOG.error("{} under {}: {}", scenario.name(), choice.label(), error);
            violations++;
            problems.add(error);
        }
        List<WorkerFailure> workerFailures = WorkerFailure.distinct(measured.failures().stream()
                .map(f -> WorkerFailure.of(choice.label(), f.role(), f.thrown())).toList(), MAX_DETAILS);
        if (error == null && !workerFailures.isEmpty()) {
            error = "a worker failed: " + workerFailures.get(0).exception();
        }
        if (measured.quiescent()) {
            List<Violation> found = InvariantChecker.check(List.of(mm), ctx.files());
            violations += found.size();
            for (Violation v : found) {
                LOG.error("{} under {}: invariant violated: {}", scenario.name(), choice.label(), v);
                if (problems.size() < MAX_DETAILS) {
                    problems.add(v.toString());
                }
            }
        }
        List<OpRecorder> recorders = members.stream().map(Member::recorder).toList();
        List<String> recorderRoles = members.stream().map(Member::role).toList();
        double seconds = measured.windowNanos() / 1e9;
        return new Checked(new RunResult(choice.label(), null, seconds, mergeOps(roleOrder, recorders, recorderRoles, seconds),
                measured.after().waitsSince(measured.before()), measured.after().countersSince(measured.before()),
                measured.after().lockUseSince(measured.before()), violations, problems, error, workerFailures),
                measured.interleaving());
    }

    /** What a worker thread of {@code role} threw. */
    private record Failed(String role, Throwable thrown) {}

    /** One thread of a role: its worker and its recorder. */
    private record Member(String role, int index, Worker worker, OpRecorder recorder) {}

    /**
     * What a measurement left: the counters at the window's edges, its length, why it failed (threads that did not
     * stop, a simulation that failed), what workers threw, and an explored schedule's interleaving (else empty).
     */
    private record Measured(Snapshot before, Snapshot after, long windowNanos, String error, List<Failed> failures,
            boolean quiescent, List<String> interleaving) {}

    private Measured measureOnWallClock(Mm mm, List<Member> members, Map<Thread, String> roleOfThread,
            MeasureWindow window, long warmupNanos, long durationNanos, Options options, DoubleConsumer progress) {
        Queue<Failed> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (Member m : members) {
            Thread thread = new Thread(loop(m, window, failures, () -> { }), "mmlab-" + m.role() + "-" + m.index());
            thread.setDaemon(true);
            roleOfThread.put(thread, m.role());
            threads.add(thread);
        }
        threads.forEach(Thread::start);
        long begin = System.nanoTime();
        sleepUntil(begin + warmupNanos, begin, warmupNanos + durationNanos, progress, window);
        Snapshot before = Snapshot.of(mm);
        long open = System.nanoTime();
        window.open(open);
        sleepUntil(open + durationNanos, begin, warmupNanos + durationNanos, progress, window);
        long close = System.nanoTime();
        window.close(close);
        Snapshot after = Snapshot.of(mm);
        window.stop();

        String error = null;
        List<String> stuck = join(threads, (long) (options.stopTimeoutSeconds() * 1e9));
        if (!stuck.isEmpty()) {
            error = "threads did not stop within " + options.stopTimeoutSeconds() + " s: " + stuck + "; lock: "
                    + mm.mmLock().describe();
            threads.forEach(Thread::interrupt);
            stuck = join(threads, TimeUnit.SECONDS.toNanos(5));
        }
        return new Measured(before, after, close - open, error, List.copyOf(failures), stuck.isEmpty(), List.of());
    }

    /**
     * Runs every member as a simulated thread of a {@link VirtualScheduler}; a keeper thread, also simulated,
     * snapshots the counters at the window's edges in virtual time, so the edges are exact.
     */
    private Measured measureInVirtualTime(Mm mm, List<Member> members, Map<Thread, String> roleOfThread,
            MeasureWindow window, long warmupNanos, long durationNanos, Options options) {
        VirtualScheduler scheduler = options.preemptOneIn() > 0
                ? VirtualScheduler.exploring(options.virtualClock(), options.seed(), options.preemptOneIn())
                : new VirtualScheduler(options.virtualClock(), options.seed());
        Queue<Failed> failures = new ConcurrentLinkedQueue<>();
        List<List<String>> atFailure = new ArrayList<>(1);
        Runnable keepInterleaving = () -> {
            if (atFailure.isEmpty()) {
                atFailure.add(scheduler.interleaving()); // the steps that led to it, not what came after
            }
        };
        for (Member m : members) {
            roleOfThread.put(scheduler.spawn("mmlab-" + m.role() + "-" + m.index(), loop(m, window, failures, keepInterleaving)),
                    m.role());
        }
        Snapshot[] edges = new Snapshot[2];
        scheduler.spawn("mmlab-window", () -> {
            Sched.sleepNanos(warmupNanos);
            edges[0] = Snapshot.of(mm);
            Sched.sleepNanos(durationNanos);
            edges[1] = Snapshot.of(mm);
        });
        try {
            scheduler.run((long) (options.stopTimeoutSeconds() * 1000));
        } catch (SimulationException e) {
            StringBuilder where = new StringBuilder();
            for (int i = 0; i < Math.min(8, e.getStackTrace().length); i++) {
                where.append("\n    at ").append(e.getStackTrace()[i]);
            }
            Snapshot now = Snapshot.of(mm);
            keepInterleaving.run();
            return new Measured(edges[0] == null ? now : edges[0], edges[1] == null ? now : edges[1], durationNanos,
                    "the simulation failed: " + e.getMessage() + where, List.copyOf(failures), false, atFailure.get(0));
        }
        keepInterleaving.run();
        return new Measured(edges[0], edges[1], durationNanos, null, List.copyOf(failures), true, atFailure.get(0));
    }

    /**
     * A member's thread body: steps until the window stops; a failure is kept in {@code failures} and stops every
     * worker, after {@code onFailure} ran on the first failing thread.
     */
    private static Runnable loop(Member m, MeasureWindow window, Queue<Failed> failures, Runnable onFailure) {
        return () -> {
            try {
                while (!window.stopping()) {
                    m.worker().step(m.recorder());
                }
            } catch (Throwable e) {
                LOG.debug("a worker of {} failed", m.role(), e);
                boolean first = failures.isEmpty();
                failures.add(new Failed(m.role(), e));
                if (first) {
                    onFailure.run();
                }
                window.stop();
            }
        };
    }

    /** Sleeps until {@code deadline}, reporting progress; returns early when a worker failed. */
    private static void sleepUntil(long deadline, long begin, long total, DoubleConsumer progress, MeasureWindow window) {
        for (long now = System.nanoTime(); now < deadline && !window.stopping(); now = System.nanoTime()) {
            progress.accept(Math.min(1.0, (now - begin) / (double) Math.max(1, total)));
            LockSupport.parkNanos(Math.min(deadline - now, TimeUnit.MILLISECONDS.toNanos(100)));
        }
    }

    /** Joins every thread within {@code nanos} in all; returns the names of those still alive. */
    private static List<String> join(List<Thread> threads, long nanos) {
        long deadline = System.nanoTime() + nanos;
        List<String> alive = new ArrayList<>();
        for (Thread t : threads) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) {
                    t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                alive.add(t.getName());
            }
        }
        return alive;
    }

    private static Map<String, OpStats> mergeOps(List<String> roleOrder, List<OpRecorder> recorders,
            List<String> recorderRoles, double seconds) {
        Map<String, OpStats> out = new LinkedHashMap<>();
        for (String role : roleOrder) {
            Map<String, Histogram> merged = new TreeMap<>();
            for (int i = 0; i < recorders.size(); i++) {
                if (!recorderRoles.get(i).equals(role)) {
                    continue;
                }
                recorders.get(i).histograms().forEach((op, h) -> {
                    Histogram m = merged.computeIfAbsent(op, k -> {
                        Histogram fresh = new Histogram(3);
                        fresh.setAutoResize(true);
                        return fresh;
                    });
                    m.add(h);
                });
                for (String op : recorders.get(i).seen()) {
                    merged.computeIfAbsent(op, k -> new Histogram(3));
                }
            }
            merged.forEach((op, h) -> out.put(role + "/" + op, OpStats.of(h, seconds)));
        }
        return out;
    }

    /** Counters and wait totals at one instant. */
    private record Snapshot(Map<String, Long> counters, Map<String, Map<String, Long>> lockUse, long waits,
            long falseWaits, long waitNanos, long falseWaitNanos,
            Map<LockWaitRecorder.Cause, LockWaitRecorder.CauseTotal> byCause) {
        static Snapshot of(Mm mm) {
            LockWaitRecorder w = mm.waits();
            return new Snapshot(mm.counters().snapshot(), mm.lockUse().snapshot(), w.count(), w.falseConflicts(),
                    w.waitNanos(), w.falseConflictWaitNanos(), w.byCause());
        }

        /** The lock use of the operations in the window: operation kinds that ran in it, sorted. */
        Map<String, Map<String, Long>> lockUseSince(Snapshot before) {
            Map<String, Map<String, Long>> out = new TreeMap<>();
            lockUse.forEach((op, row) -> {
                Map<String, Long> old = before.lockUse.getOrDefault(op, Map.of());
                Map<String, Long> d = new LinkedHashMap<>();
                long total = 0;
                for (Map.Entry<String, Long> e : row.entrySet()) {
                    long n = e.getValue() - old.getOrDefault(e.getKey(), 0L);
                    d.put(e.getKey(), n);
                    total += n;
                }
                if (total != 0) {
                    out.put(op, d);
                }
            });
            return out;
        }

        Map<String, Long> countersSince(Snapshot before) {
            Map<String, Long> out = new TreeMap<>();
            counters.forEach((k, v) -> {
                long d = v - before.counters.getOrDefault(k, 0L);
                if (d != 0) {
                    out.put(k, d);
                }
            });
            return out;
        }

        WaitStats waitsSince(Snapshot before) {
            List<WaitStats.Cause> causes = new ArrayList<>();
            for (Map.Entry<LockWaitRecorder.Cause, LockWaitRecorder.CauseTotal> e : byCause.entrySet()) {
                LockWaitRecorder.CauseTotal old = before.byCause.get(e.getKey());
                long n = e.getValue().count() - (old == null ? 0 : old.count());
                long ns = e.getValue().waitNanos() - (old == null ? 0 : old.waitNanos());
                if (n > 0) {
                    causes.add(new WaitStats.Cause(e.getKey().waiterOp(), e.getKey().blockerOp(),
                            e.getKey().falseConflict(), n, ns));
                }
            }
            causes.sort(Comparator.comparingLong(WaitStats.Cause::waitNs).reversed());
            return new WaitStats(waits - before.waits, falseWaits - before.falseWaits, waitNanos - before.waitNanos,
                    falseWaitNanos - before.falseWaitNanos, causes);
        }
    }

}
