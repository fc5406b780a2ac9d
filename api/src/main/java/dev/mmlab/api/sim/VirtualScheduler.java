package dev.mmlab.api.sim;

import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.locks.LockSupport;

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
 *   <li><b>Follows.</b> Conservative discrete-event simulation with one logical process per CPU; the cache
 *       model is {@link CacheLines}.</li>
 * </ul>
 */
public final class VirtualScheduler implements Sched.Scheduler {
    private static final Comparator<SimThread> ORDER = Comparator.<SimThread>comparingLong(t -> t.readyAt)
            .thenComparingInt(t -> t.rank).thenComparingInt(t -> t.core);

    /**
     * How far (virtual ns) the running thread may run ahead of the earliest runnable one before a seam call
     * hands over: fewer hand-offs (each costs the host microseconds) for accesses to shared lines reordered by
     * at most this much. Operations on a lock two cores have used ({@link #lockOp}) are strictly in order.
     */
    public static final long DEFAULT_LOOKAHEAD_NANOS = Long.getLong("mmlab.lookahead", 250);

    private final CostProfile profile;
    private final long lookahead;
    private final SplittableRandom ranks;
    private final CacheLines lines;
    private final List<SimThread> threads = new ArrayList<>();
    private final PriorityQueue<SimThread> ready = new PriorityQueue<>(ORDER);
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
        this.profile = profile;
        this.lookahead = lookaheadNanos;
        this.ranks = new SplittableRandom(seed);
        this.lines = new CacheLines(profile);
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
        first.giveBaton();
        watch(stallMillis);
        if (failure != null) {
            throw failure;
        }
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
        switchAway(me);
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
        ready.add(me);
        switchAway(me);
    }

    @Override
    public void unpark(Thread thread) {
        SimThread me = me();
        progress++;
        SimThread t = (SimThread) thread;
        long wakeAt = me.clock + profile.nanos(t.spinning ? Cost.LINE_TRANSFER : Cost.WAKEUP);
        switch (t.phase) {
            case PARKED:
                t.readyAt = Math.max(t.clock, wakeAt);
                t.phase = Phase.READY;
                ready.add(t);
                break;
            case TIMED:
                if (wakeAt < t.readyAt) {
                    ready.remove(t);
                    t.readyAt = Math.max(t.clock, wakeAt);
                    t.phase = Phase.READY;
                    ready.add(t);
                }
                break;
            default:
                t.permit = true;
        }
    }

    @Override
    public void sleepNanos(long nanos) {
        SimThread me = me();
        progress++;
        me.clock += nanos;
        yieldIfLater(me);
    }

    @Override
    public void spinWait() {
        SimThread me = me();
        progress++;
        me.clock += profile.nanos(Cost.SPIN);
        yieldIfLater(me);
    }

    @Override
    public long nanoTime() {
        return me().clock;
    }

    @Override
    public void access(Object line, boolean write) {
        SimThread me = me();
        progress++;
        yieldIfLater(me);
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
        yieldIfLater(me, lines.sharedWithOthers(lock, me.core) ? 0 : lookahead);
        me.clock = lines.access(lock, me.core, true, me.clock);
    }

    @Override
    public void cost(Cost cost, long times) {
        me().clock += profile.nanos(cost) * times;
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
        if (slack == 0 ? ORDER.compare(head, me) < 0 : head.readyAt + slack < me.clock) {
            me.phase = Phase.READY;
            ready.add(me);
            switchAway(me);
        }
    }

    /** {@code me} stops running (its state says why); the earliest ready thread runs. */
    private void switchAway(SimThread me) {
        SimThread next = ready.poll();
        if (next == null) {
            fail(deadlock());
            me.awaitBaton();
            return;
        }
        start(next);
        if (next != me) {
            next.giveBaton();
            me.awaitBaton();
        }
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
        me.phase = Phase.DONE;
        SimThread next = ready.poll();
        if (next != null) {
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
