package dev.mmlab.bench.calibrate;

import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Counts the steps the engine charges while one thread runs a workload on the wall clock: every
 * {@link Sched#cost}, {@link Sched#access} and {@link Sched#lockOp} call the virtual clock would price. Waits
 * are the wall clock's (the workload is single-threaded, so nothing waits for long).
 *
 * <p>Counting flips {@link Sched#simulationStarts()} for the whole JVM, after which every seam call on the
 * fault path asks for the thread's scheduler: time what is to be timed before counting anything.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Confinement: the counts are written only by the one counted thread and read
 *       by the caller after {@code join()}, which orders every write before the read.</li>
 *   <li><b>Lock order.</b> none: takes no lock; waits are delegated to {@link Sched#WALL_CLOCK}.</li>
 * </ul>
 */
final class StepCounter implements Sched.Scheduler {
    private final long[] steps = new long[Cost.values().length];
    private long reads;
    private long writes;
    private long lockOps;

    /** How often a workload did each step, and its accesses to shared words. */
    record Counts(long[] steps, long reads, long writes, long lockOps) {
        long of(Cost step) {
            return steps[step.ordinal()];
        }
    }

    private StepCounter() {}

    /** Runs {@code body} once on a thread of its own whose steps are counted; rethrows what it threw. */
    static Counts count(Runnable body) {
        Sched.simulationStarts();
        StepCounter counter = new StepCounter();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread thread = new CountedThread(counter, () -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        thread.start();
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while counting a workload's steps", e);
        }
        if (failure.get() != null) {
            throw new IllegalStateException("the counted workload failed: " + failure.get(), failure.get());
        }
        return new Counts(counter.steps.clone(), counter.reads, counter.writes, counter.lockOps);
    }

    /** A thread that answers the seam with its counter. */
    private static final class CountedThread extends Thread implements Sched.Scheduled {
        private final StepCounter counter;

        CountedThread(StepCounter counter, Runnable body) {
            super(body, "mmlab-calibrate-count");
            this.counter = counter;
        }

        @Override
        public Sched.Scheduler scheduler() {
            return counter;
        }
    }

    @Override
    public void cost(Cost cost, long times) {
        steps[cost.ordinal()] += times;
    }

    @Override
    public void access(Object line, boolean write) {
        if (write) {
            writes++;
        } else {
            reads++;
        }
    }

    @Override
    public void lockOp(Object lock) {
        lockOps++;
    }

    @Override
    public void park(Object blocker) {
        Sched.WALL_CLOCK.park(blocker);
    }

    @Override
    public void parkNanos(Object blocker, long nanos) {
        Sched.WALL_CLOCK.parkNanos(blocker, nanos);
    }

    @Override
    public void unpark(Thread thread) {
        Sched.WALL_CLOCK.unpark(thread);
    }

    @Override
    public void sleepNanos(long nanos) {
        Sched.WALL_CLOCK.sleepNanos(nanos);
    }

    @Override
    public void spinWait() {
        Sched.WALL_CLOCK.spinWait();
    }

    @Override
    public long nanoTime() {
        return Sched.WALL_CLOCK.nanoTime();
    }
}
