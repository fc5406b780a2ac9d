package dev.mmlab.api.sync;

import java.util.concurrent.locks.LockSupport;

/**
 * The one seam through which every wait in the engine and the strategies passes: parking a thread and waking
 * it, a timed sleep (device I/O, a reclaim stall), one turn of a spin-wait, and the clock a wait is measured
 * with. On an ordinary thread these are the wall clock's: {@link LockSupport}, {@link Thread#onSpinWait},
 * {@link System#nanoTime}. On a thread that a virtual-time scheduler runs ({@link Scheduled}), they are that
 * scheduler's, which runs one simulated thread at a time and advances a virtual clock instead of waiting.
 *
 * <p>A strategy that waits only through this class (and {@link Mutex} for its locks) can be simulated; one
 * that waits any other way (a monitor or a {@code ReentrantLock} held across a wait, {@code Thread.sleep}) is
 * caught by the scheduler as a thread that blocked outside the seam.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Nothing of its own: each call is answered by the calling thread's
 *       scheduler, found without a lookup table (the thread itself says which, by implementing
 *       {@link Scheduled}); the wall clock's is one stateless instance.</li>
 *   <li><b>Lock order.</b> None: no method takes a lock. {@link #park} and {@link #sleepNanos} may block the
 *       caller, so a caller must not hold anything another thread needs to wake it, except through
 *       {@link Mutex}.</li>
 *   <li><b>Semantics.</b> Those of {@link LockSupport}: {@link #unpark} before {@link #park} leaves a permit,
 *       and {@link #park} may return spuriously, so every caller re-checks its condition in a loop.</li>
 * </ul>
 */
public final class Sched {
    /**
     * Whether any virtual-time scheduler has run in this JVM: until one has, {@link #access} and {@link #cost}
     * return at once without asking which scheduler the thread has (they are on the fault path).
     */
    private static volatile boolean simulating;

    private Sched() {}

    /** What a scheduler answers for the threads it runs. */
    public interface Scheduler {
        /** {@link LockSupport#park(Object)} for the calling thread. */
        void park(Object blocker);

        /**
         * Wait as a spinning waiter does ({@code rwsem_optimistic_spin}, a spinlock): like {@link #park}, but
         * the waker's hand-over costs the waiter a cache line, not a sleep and a wake-up. The wall clock parks:
         * this host may have fewer cores than threads, and a spinner would take the owner's CPU.
         */
        default void parkSpinning(Object blocker) {
            park(blocker);
        }

        /** {@link LockSupport#parkNanos(Object, long)} for the calling thread. */
        void parkNanos(Object blocker, long nanos);

        /** {@link LockSupport#unpark}: make {@code thread} runnable, or give it a permit. */
        void unpark(Thread thread);

        /**
         * Let {@code nanos} pass without using a CPU, through interrupts (I/O here is not interruptible; the
         * interrupt flag is kept for the caller).
         */
        void sleepNanos(long nanos);

        /** One turn of a busy-wait: a condition another thread will change is not true yet. */
        void spinWait();

        /** The time, in nanoseconds, that waits and latencies are measured with. */
        long nanoTime();

        /**
         * The calling thread reads ({@code write} false) or writes / atomically updates the shared word
         * {@code line} stands for (a lock word, a reference count, a sequence count): its cache line. The wall
         * clock does nothing; a virtual-time scheduler charges a line transfer when another core has it.
         */
        default void access(Object line, boolean write) {}

        /**
         * An atomic on the word of a lock ({@code lock}) that takes, tries or releases it. Like a write
         * {@link #access}, but ordered strictly by virtual time: who gets a lock first decides who waits.
         */
        default void lockOp(Object lock) {}

        /** The calling thread did {@code times} steps of {@code cost}. The wall clock does nothing. */
        default void cost(Cost cost, long times) {}
    }

    /** A thread run by a scheduler of its own, which answers the seam's calls it makes. */
    public interface Scheduled {
        Scheduler scheduler();
    }

    /** The wall clock: the scheduler of every thread that is not {@link Scheduled}. */
    public static final Scheduler WALL_CLOCK = new Scheduler() {
        @Override
        public void park(Object blocker) {
            LockSupport.park(blocker);
        }

        @Override
        public void parkNanos(Object blocker, long nanos) {
            LockSupport.parkNanos(blocker, nanos);
        }

        @Override
        public void unpark(Thread thread) {
            LockSupport.unpark(thread);
        }

        @Override
        public void sleepNanos(long nanos) {
            long deadline = System.nanoTime() + nanos;
            boolean interrupted = false;
            for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
                LockSupport.parkNanos(left);
                interrupted |= Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void spinWait() {
            Thread.onSpinWait();
        }

        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public String toString() {
            return "wall clock";
        }
    };

    /** The calling thread's scheduler: its own when it is {@link Scheduled}, else the wall clock. */
    public static Scheduler current() {
        Thread t = Thread.currentThread();
        return t instanceof Scheduled ? ((Scheduled) t).scheduler() : WALL_CLOCK;
    }

    /** Whether the calling thread runs on the wall clock (no virtual-time scheduler). */
    public static boolean onWallClock() {
        return current() == WALL_CLOCK;
    }

    /** Park the calling thread; see {@link Scheduler#park}. May return spuriously. */
    public static void park(Object blocker) {
        current().park(blocker);
    }

    /** Wait as a spinner; see {@link Scheduler#parkSpinning}. May return spuriously. */
    public static void parkSpinning(Object blocker) {
        current().parkSpinning(blocker);
    }

    /** Park the calling thread for at most {@code nanos}; see {@link Scheduler#parkNanos}. */
    public static void parkNanos(Object blocker, long nanos) {
        current().parkNanos(blocker, nanos);
    }

    /** Wake {@code thread}, or leave it a permit; see {@link Scheduler#unpark}. Null is ignored. */
    public static void unpark(Thread thread) {
        if (thread != null) {
            current().unpark(thread);
        }
    }

    /** Sleep {@code nanos} through interrupts; see {@link Scheduler#sleepNanos}. */
    public static void sleepNanos(long nanos) {
        if (nanos > 0) {
            current().sleepNanos(nanos);
        }
    }

    /** One turn of a busy-wait; see {@link Scheduler#spinWait}. */
    public static void spinWait() {
        current().spinWait();
    }

    /** The time waits are measured with; see {@link Scheduler#nanoTime}. */
    public static long nanoTime() {
        return current().nanoTime();
    }

    /** A virtual-time scheduler is about to run threads: from now on {@link #access} and {@link #cost} count. */
    public static void simulationStarts() {
        simulating = true;
    }

    /** The calling thread reads or writes the shared word {@code line}; see {@link Scheduler#access}. */
    public static void access(Object line, boolean write) {
        if (simulating) {
            current().access(line, write);
        }
    }

    /** The calling thread takes, tries or releases {@code lock}; see {@link Scheduler#lockOp}. */
    public static void lockOp(Object lock) {
        if (simulating) {
            current().lockOp(lock);
        }
    }

    /** The calling thread did one step of {@code cost}; see {@link Scheduler#cost}. */
    public static void cost(Cost cost) {
        if (simulating) {
            current().cost(cost, 1);
        }
    }

    /** The calling thread did {@code times} steps of {@code cost}; see {@link Scheduler#cost}. */
    public static void cost(Cost cost, long times) {
        if (simulating && times > 0) {
            current().cost(cost, times);
        }
    }
}
