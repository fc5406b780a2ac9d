package dev.mmlab.api.sim;

import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Mutex;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * Runs simulated threads one at a time in virtual time: the real engine and strategy code, on real Java
 * threads, but only the thread holding the baton runs, and every wait and cost goes through the
 * {@link Sched} seam to this scheduler instead of to the host. Each simulated thread has a CPU of its own and
 * a virtual clock; the runnable thread with the lowest clock runs next (ties broken by a seeded order), so
 * the same seed and cost profile give the same run on any machine.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The baton: exactly one thread at a time (the running simulated thread, or
 *       the controlling thread before the run starts) reads and writes the run queue, the threads' clocks and
 *       states and the cache lines. Passing the baton is a volatile write the receiver reads, so whatever the
 *       giver did is visible to the receiver. The controlling thread, waiting in {@link #run}, only reads the
 *       volatile progress counter and the outcome.</li>
 *   <li><b>Lock order.</b> None of its own: a simulated thread holds the baton while it runs and gives it
 *       away only inside a seam call. A thread that blocks anywhere else (a monitor, a foreign lock) keeps the
 *       baton; the controlling thread notices that no seam call happened for {@code stallMillis} of real time
 *       and fails the run, naming the thread and its stack.</li>
 *   <li><b>When threads switch.</b> Only in seam calls that wait or touch shared state: {@code park},
 *       {@code sleepNanos}, {@code spinWait} and {@code access}. A thread keeps running while its clock is the
 *       lowest of the runnable ones, so costs are only added, never a reason to switch. Shared cache lines are
 *       touched in virtual-time order, which is what makes their transfers serialise correctly.</li>
 *   <li><b>Exploring schedules.</b> {@link #exploring} keeps the clocks but drops their order: each thread has
 *       a seeded random priority, the runnable thread with the highest runs, and every seam call (costs
 *       included) is a preemption point where, one time in {@code preemptOneIn}, the running thread is demoted
 *       below every other. A spin turn or a sleep always demotes, so a spinner cannot starve the thread it
 *       waits for.
 *       A timed wait ends when it is woken, when the running thread's clock passes its deadline, or when no
 *       other thread can run, so that a timeout stays a timeout.
 *       The switches are recorded ({@link #interleaving}) so that a failure can be shown with the steps that
 *       led to it.</li>
 *   <li><b>Follows.</b> Conservative discrete-event simulation with one logical process per CPU; the cache
 *       model is {@link CacheLines}. Exploring follows PCT (Burckhardt et al., ASPLOS 2010), with a
 *       chance of a change point at every step rather than a fixed number of them.</li>
 * </ul>
 */
public final class VirtualScheduler implements Sched.Scheduler {
    private static final Comparator<SimThread> BY_CLOCK = Comparator.<SimThread>comparingLong(t -> t.readyAt)
            .thenComparingInt(t -> t.rank).thenComparingInt(t -> t.core);
    private static final Comparator<SimThread> BY_PRIORITY = Comparator.<SimThread>comparingLong(t -> t.priority)
            .thenComparingInt(t -> t.core);
    /** How many recent switches an exploring scheduler keeps to show a failure's interleaving. */
    private static final int INTERLEAVING_LINES = 40;
    private static final StackWalker STACK = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);
    /** The classes between the code under simulation and a switch, left out of the interleaving's callers. */
    private static final Set<Class<?>> SEAM_CLASSES = Set.of(VirtualScheduler.class, SimThread.class, Sched.class,
            Mutex.class);

    /**
     * How far (virtual ns) the running thread may run ahead of the earliest runnable one before a seam call
     * hands over: fewer hand-offs (each costs the host microseconds) for accesses to shared lines reordered by
     * at most this much. Operations on a lock two cores have used ({@link #lockOp}) are strictly in order.
     */
    public static final long DEFAULT_LOOKAHEAD_NANOS = Long.getLong("mmlab.lookahead", 250);

    private static final boolean KEEP_AWAKE = Boolean.parseBoolean(System.getProperty("mmlab.keepAwake", "true"));

    private final CostProfile profile;
    private final long lookahead;
    private final SplittableRandom ranks;
    private final CacheLines lines;
    private final Comparator<SimThread> order;
    /** The seeded choices of an exploring scheduler; null in virtual-time order. */
    private final SplittableRandom choices;
    private final int preemptOneIn;
    /** The priority of the last thread demoted: above every initial one, so a demoted thread runs after them. */
    private long lastDemoted = Long.MAX_VALUE / 2;
    private final ArrayDeque<String> interleaving = new ArrayDeque<>();
    private final List<SimThread> threads = new ArrayList<>();
    private final PriorityQueue<SimThread> ready;
    /**
     * An exploring scheduler's timed waiters, by deadline: they become runnable when woken, when the running
     * thread's clock passes their deadline, or when nothing else can run (in virtual-time order they wait in
     * {@link #ready}, whose order is their deadline).
     */
    private final PriorityQueue<SimThread> timers = new PriorityQueue<>(BY_CLOCK);
    private SimThread running;
    private volatile long progress;
    private volatile boolean finished;
    private volatile SimulationException failure;
    private final Object done = new Object();

    /** A scheduler pricing steps with {@code profile}; {@code seed} orders threads whose clocks are equal. */
    public VirtualScheduler(CostProfile profile, long seed) {
        this(profile, seed, DEFAULT_LOOKAHEAD_NANOS);
    }

    /**
     * A scheduler that lets a running thread run up to {@code lookaheadNanos} ahead of the earliest runnable one
     * before it hands over; 0 is strict lowest-clock-first.
     */
    public VirtualScheduler(CostProfile profile, long seed, long lookaheadNanos) {
        this(profile, seed, lookaheadNanos, 0);
    }

    private VirtualScheduler(CostProfile profile, long seed, long lookaheadNanos, int preemptOneIn) {
        this.profile = profile;
        this.lookahead = lookaheadNanos;
        this.ranks = new SplittableRandom(seed);
        this.lines = new CacheLines(profile);
        this.preemptOneIn = preemptOneIn;
        this.choices = preemptOneIn > 0 ? new SplittableRandom(seed ^ 0x5DEECE66DL) : null;
        this.order = choices == null ? BY_CLOCK : BY_PRIORITY;
        this.ready = new PriorityQueue<>(order);
    }

    /**
     * A scheduler that explores interleavings instead of following the clocks: seeded random priorities, and
     * at every seam call a one-in-{@code preemptOneIn} chance that the running thread is demoted below every
     * other (see the design notes). The same seed replays the same schedule of the same program.
     */
    public static VirtualScheduler exploring(CostProfile profile, long seed, int preemptOneIn) {
        if (preemptOneIn < 1) {
            throw new IllegalArgumentException("preemptOneIn must be at least 1, not " + preemptOneIn);
        }
        return new VirtualScheduler(profile, seed, 0, preemptOneIn);
    }

    /**
     * The last switches of an exploring run, oldest first: virtual time, the thread, the seam call where it
     * stopped and its caller, and who ran next. Empty in virtual-time order. Read it after {@link #run}.
     */
    public List<String> interleaving() {
        return List.copyOf(interleaving);
    }

    public CostProfile profile() {
        return profile;
    }

    /** A simulated thread that will run {@code body} from virtual time 0. Only before {@link #run}. */
    public Thread spawn(String name, Runnable body) {
        if (running != null || finished) {
            throw new IllegalStateException("threads are added before the run starts");
        }
        SimThread t = new SimThread(name, body, threads.size(), ranks.nextInt());
        if (choices != null) {
            t.priority = choices.nextLong() >>> 2;
        }
        threads.add(t);
        return t;
    }

    /**
     * Run every spawned thread to its end. Returns when all ended; the caller is not simulated.
     *
     * @param stallMillis how long (real time) the running thread may go without a seam call before the run
     *     fails as blocked outside the seam
     * @throws SimulationException when a thread threw, every live thread is parked (a deadlock), or a thread
     *     blocked outside the seam
     */
    public void run(long stallMillis) throws SimulationException {
        if (threads.isEmpty()) {
            return;
        }
        Sched.simulationStarts();
        for (SimThread t : threads) {
            t.phase = Phase.READY;
            ready.add(t);
            t.start();
        }
        SimThread first = ready.poll();
        first.phase = Phase.RUNNING;
        running = first;
        startKeepAwake();
        first.giveBaton();
        watch(stallMillis);
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * A thread that keeps a second CPU from going idle while the simulation runs, by yielding in a loop: it
     * gives way to any thread that wants the CPU, but the CPU never sleeps. Each hand-over of the baton wakes a
     * parked thread, and waking a thread on an idle CPU costs that CPU's wake-up (an interrupt, and on a
     * virtual machine a halted vCPU: 25 us here, against about 2 us on a busy one), which doubled the
     * simulation's wall time on the 2-core machine. It ends when the run does ({@code finished}, set on success
     * and on every failure). Only with two CPUs or more; off with {@code -Dmmlab.keepAwake=false}.
     */
    private void startKeepAwake() {
        if (!KEEP_AWAKE || Runtime.getRuntime().availableProcessors() < 2) {
            return;
        }
        Thread t = new Thread(() -> {
            while (!finished) {
                Thread.yield();
            }
        }, "mmlab-keep-awake");
        t.setDaemon(true);
        t.start();
    }

    /** The largest clock any thread reached: how long the run took in virtual time. */
    public long elapsedNanos() {
        return threads.stream().mapToLong(t -> t.clock).max().orElse(0);
    }

    private void watch(long stallMillis) {
        long seen = -1;
        long since = System.nanoTime();
        synchronized (done) {
            while (!finished) {
                try {
                    done.wait(100);
                } catch (InterruptedException e) {
                    fail(new SimulationException("interrupted while the simulation ran", null));
                    Thread.currentThread().interrupt();
                    return;
                }
                long now = System.nanoTime();
                if (progress != seen) {
                    seen = progress;
                    since = now;
                } else if (!finished && now - since > stallMillis * 1_000_000L) {
                    SimThread stuck = running;
                    String how = stuck == null ? "no thread holds the baton"
                            : stuck.getState() == Thread.State.RUNNABLE
                                    ? "has run " + stallMillis + " ms without a seam call"
                                    : "blocked outside the seam (" + stuck.getState() + ")";
                    fail(new SimulationException("simulated thread " + (stuck == null ? "?" : stuck.getName()) + " "
                            + how + ": it waits in a way the virtual clock cannot see (a monitor, a foreign lock,"
                            + " Thread.sleep) instead of through dev.mmlab.api.sync.Sched or Mutex",
                            stuck == null ? null : stuck.getStackTrace()));
                    return;
                }
            }
        }
    }

    private void fail(SimulationException e) {
        if (failure == null) {
            failure = e;
        }
        finished = true;
        for (SimThread t : threads) {
            t.aborted = true;
            LockSupport.unpark(t);
        }
        synchronized (done) {
            done.notifyAll();
        }
    }

    private SimThread me() {
        Thread t = Thread.currentThread();
        if (!(t instanceof SimThread) || ((SimThread) t).scheduler() != this) {
            throw new IllegalStateException(t.getName() + " is not a thread of this simulation");
        }
        return (SimThread) t;
    }

    // ------------------------------------------------------------------ the seam

    @Override
    public void park(Object blocker) {
        SimThread me = me();
        progress++;
        if (me.permit) {
            me.permit = false;
            return;
        }
        me.phase = Phase.PARKED;
        me.blocker = blocker;
        switchAway(me, "parks on", blocker);
    }

    @Override
    public void parkSpinning(Object blocker) {
        me().spinning = true;
        park(blocker);
    }

    @Override
    public void parkNanos(Object blocker, long nanos) {
        SimThread me = me();
        progress++;
        if (me.permit) {
            me.permit = false;
            return;
        }
        me.phase = Phase.TIMED;
        me.blocker = blocker;
        me.readyAt = me.clock + Math.max(0, nanos);
        (choices == null ? ready : timers).add(me);
        switchAway(me, "waits (timed) on", blocker);
    }

    @Override
    public void unpark(Thread thread) {
        SimThread me = me();
        progress++;
        SimThread t = (SimThread) thread;
        long wakeAt = me.clock + profile.nanos(t.spinning ? Cost.SPIN_HANDOFF : Cost.WAKEUP);
        switch (t.phase) {
            case PARKED:
                t.readyAt = Math.max(t.clock, wakeAt);
                t.phase = Phase.READY;
                ready.add(t);
                break;
            case TIMED:
                if (wakeAt < t.readyAt || choices != null) {
                    (choices == null ? ready : timers).remove(t);
                    t.readyAt = Math.max(t.clock, wakeAt);
                    t.phase = Phase.READY;
                    ready.add(t);
                }
                break;
            default:
                t.permit = true;
        }
        if (choices != null) {
            preemptionPoint(me, false, "wakes", t);
        }
    }

    @Override
    public void sleepNanos(long nanos) {
        SimThread me = me();
        progress++;
        me.clock += nanos;
        if (choices != null) {
            preemptionPoint(me, true, "sleeps", null);
        } else {
            yieldIfLater(me);
        }
    }

    @Override
    public void spinWait() {
        SimThread me = me();
        progress++;
        me.clock += profile.nanos(Cost.SPIN);
        if (choices != null) {
            preemptionPoint(me, true, "spins", null);
        } else {
            yieldIfLater(me);
        }
    }

    @Override
    public long nanoTime() {
        return me().clock;
    }

    @Override
    public void access(Object line, boolean write) {
        SimThread me = me();
        progress++;
        if (choices != null) {
            preemptionPoint(me, false, write ? "writes" : "reads", line);
        } else {
            yieldIfLater(me);
        }
        me.clock = lines.access(line, me.core, write, me.clock);
    }

    /**
     * {@inheritDoc} Strict once a second core has touched the lock (who gets it first decides who waits); a lock
     * only one core has used so far (a PTE table's lock in a thread's own region) gets the lookahead.
     */
    @Override
    public void lockOp(Object lock) {
        SimThread me = me();
        progress++;
        if (choices != null) {
            preemptionPoint(me, false, "locks", lock);
        } else {
            yieldIfLater(me, lines.sharedWithOthers(lock, me.core) ? 0 : lookahead);
        }
        me.clock = lines.access(lock, me.core, true, me.clock);
    }

    @Override
    public void cost(Cost cost, long times) {
        SimThread me = me();
        me.clock += profile.nanos(cost) * times;
        if (choices != null) {
            progress++;
            preemptionPoint(me, false, "costs", cost);
        }
    }

    /**
     * An exploring scheduler's preemption point: {@code me} is demoted below every thread one time in
     * {@code preemptOneIn} (always when {@code demote}), and lets a higher-priority runnable thread run.
     */
    private void preemptionPoint(SimThread me, boolean demote, String what, Object on) {
        if (demote || choices.nextInt(preemptOneIn) == 0) {
            me.priority = ++lastDemoted;
        }
        while (!timers.isEmpty() && timers.peek().readyAt <= me.clock) {
            ready.add(timers.poll());
        }
        SimThread head = ready.peek();
        if (head != null && order.compare(head, me) < 0) {
            me.readyAt = me.clock;
            me.phase = Phase.READY;
            ready.add(me);
            switchAway(me, what, on);
        }
    }

    /** Let an earlier runnable thread go first; {@code me} runs on while within the lookahead of the earliest. */
    private void yieldIfLater(SimThread me) {
        yieldIfLater(me, lookahead);
    }

    private void yieldIfLater(SimThread me, long slack) {
        SimThread head = ready.peek();
        if (head == null) {
            return;
        }
        me.readyAt = me.clock;
        if (slack == 0 ? order.compare(head, me) < 0 : head.readyAt + slack < me.clock) {
            me.phase = Phase.READY;
            ready.add(me);
            switchAway(me, "yields at", null);
        }
    }

    /** {@code me} stops running ({@code what} on {@code on}; its state says why); the next ready thread runs. */
    private void switchAway(SimThread me, String what, Object on) {
        SimThread next = nextToRun();
        if (next == null) {
            record(me, what, on, "nobody: deadlock");
            fail(deadlock());
            me.awaitBaton();
            return;
        }
        start(next);
        if (next != me) {
            record(me, what, on, next.getName());
            next.giveBaton();
            me.awaitBaton();
        }
    }

    /** Notes a switch in the interleaving of an exploring run. */
    private void record(SimThread me, String what, Object on, String next) {
        if (choices == null || failure != null) {
            return; // after a failure the threads unwind at once, without the baton
        }
        if (interleaving.size() == INTERLEAVING_LINES) {
            interleaving.removeFirst();
        }
        String where = caller();
        interleaving.addLast(String.format("%,13d ns  %-18s %s%s%s -> %s", me.clock, me.getName(), what,
                on == null ? "" : " " + describe(on), where.isEmpty() ? "" : " at " + where, next));
    }

    private static String describe(Object on) {
        if (on instanceof Thread t) {
            return t.getName();
        }
        if (on instanceof Throwable || on instanceof Enum) {
            return on.toString();
        }
        String simple = on.getClass().getSimpleName();
        return simple.isEmpty() ? on.getClass().getName().replaceFirst(".*\\.", "") : simple;
    }

    /** The two innermost frames of the engine or strategy code that called the seam. */
    private static String caller() {
        return STACK.walk(frames -> frames
                .filter(f -> !SEAM_CLASSES.contains(f.getDeclaringClass()))
                .limit(2)
                .map(f -> f.getClassName().replaceFirst(".*\\.", "") + "." + f.getMethodName() + ":" + f.getLineNumber())
                .collect(Collectors.joining(" < ")));
    }

    /** The ready thread to run next; failing that, the timed waiter with the earliest deadline; or null. */
    private SimThread nextToRun() {
        SimThread next = ready.poll();
        return next != null ? next : timers.poll();
    }

    private void start(SimThread next) {
        next.spinning = false;
        if (next.phase == Phase.TIMED || next.readyAt > next.clock) {
            next.clock = next.readyAt;
        }
        next.phase = Phase.RUNNING;
        next.blocker = null;
        running = next;
    }

    private void exit(SimThread me) {
        if (me.aborted) {
            return; // its body swallowed the unwinding; the run is over
        }
        me.phase = Phase.DONE;
        SimThread next = nextToRun();
        if (next != null) {
            record(me, "ends", null, next.getName());
            start(next);
            next.giveBaton();
            return;
        }
        running = null;
        if (threads.stream().allMatch(t -> t.phase == Phase.DONE)) {
            finished = true;
            synchronized (done) {
                done.notifyAll();
            }
        } else {
            fail(deadlock());
        }
    }

    private SimulationException deadlock() {
        StringBuilder sb = new StringBuilder("every live simulated thread is parked and none can wake another:");
        for (SimThread t : threads) {
            if (t.phase == Phase.PARKED) {
                sb.append(' ').append(t.getName()).append(" (on ").append(t.blocker).append(')');
            }
        }
        return new SimulationException(sb.toString(), null);
    }

    private enum Phase { NEW, READY, RUNNING, PARKED, TIMED, DONE }

    /** One simulated thread: a Java thread that runs only while it holds the baton. */
    private final class SimThread extends Thread implements Sched.Scheduled {
        final Runnable body;
        final int core;
        final int rank;
        /** Under an exploring scheduler: lower runs first; raised above every other at a preemption. */
        long priority;
        long clock;
        long readyAt;
        Phase phase = Phase.NEW;
        boolean permit;
        /** Parked as a spinner: a wake-up costs a line transfer, not a sleep's wake-up. */
        boolean spinning;
        Object blocker;
        volatile boolean baton;
        volatile boolean aborted;

        SimThread(String name, Runnable body, int core, int rank) {
            super(name);
            this.body = body;
            this.core = core;
            this.rank = rank;
            setDaemon(true);
        }

        @Override
        public Sched.Scheduler scheduler() {
            return VirtualScheduler.this;
        }

        void giveBaton() {
            baton = true;
            LockSupport.unpark(this);
        }

        void awaitBaton() {
            while (!baton) {
                if (aborted) {
                    throw new SimulationAborted();
                }
                LockSupport.park(VirtualScheduler.this);
            }
            baton = false;
            if (aborted) {
                throw new SimulationAborted();
            }
        }

        @Override
        public void run() {
            try {
                awaitBaton();
                body.run();
            } catch (SimulationAborted e) {
                return;
            } catch (Throwable e) {
                record(this, "throws", e, "nobody: the run fails");
                fail(new SimulationException("simulated thread " + getName() + " threw " + e, e.getStackTrace(), e));
                return;
            }
            exit(this);
        }
    }

    /** Unwinds a simulated thread when the run has failed elsewhere. */
    private static final class SimulationAborted extends Error {
        private static final long serialVersionUID = 1L;

        SimulationAborted() {
            super("the simulation was aborted", null, false, false);
        }
    }
}
