package dev.mmlab.bench.calibrate;

import dev.mmlab.api.sync.Cost;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * What the lock and cache steps cost a Java program on this machine: the primitives the strategies' locks
 * are made of ({@code java.util.concurrent.atomic}, {@link LockSupport}), each timed in a loop after a
 * warm-up, the median of several repetitions. Two-thread measurements cannot pin threads to CPUs from Java,
 * so they take the median of short batches: a batch in which the two shared one CPU falls out.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Each two-thread measurement shares one atomic word between the measuring
 *       thread and its partner (the counter, the token and the time it was handed over); the partner writes
 *       its results into an array the measuring thread reads after {@code join()}.</li>
 *   <li><b>Lock order.</b> none: takes no lock; the threads wait by spinning on or parking for the shared
 *       word, which is what is measured.</li>
 * </ul>
 */
final class LockMicrobenchmarks {
    private final int reps;
    private final long loops;
    private final long trips;
    private final long wakeups;
    /** How long a thread works with the token in the wake-up measurement: about as long as a lock is held. */
    private static final long WORK_NANOS = 2_000;

    LockMicrobenchmarks(boolean quick) {
        this.reps = quick ? 3 : 7;
        this.loops = quick ? 2_000_000 : 20_000_000;
        this.trips = quick ? 20_000 : 200_000;
        this.wakeups = quick ? 100 : 1_000;
    }

    /** Each lock step, measured. */
    Map<Cost, StepEstimate> measure() {
        String k = ", median of " + reps;
        Map<Cost, StepEstimate> out = new EnumMap<>(Cost.class);
        out.put(Cost.ATOMIC_LOCAL, new StepEstimate(Cost.ATOMIC_LOCAL, median(this::atomicLocal),
                "Java: AtomicLong.incrementAndGet on one thread, ns each" + k));
        out.put(Cost.READ_LOCAL, new StepEstimate(Cost.READ_LOCAL, median(this::readLocal),
                "Java: a chain of dependent volatile reads of one cached array (latency), ns each" + k));
        out.put(Cost.SPIN, new StepEstimate(Cost.SPIN, median(this::spin),
                "Java: Thread.onSpinWait in a loop, ns per turn" + k));
        out.put(Cost.LINE_TRANSFER, new StepEstimate(Cost.LINE_TRANSFER, median(this::lineRoundTrip) / 2,
                "Java: two threads ping-pong one AtomicLong with increments, half a round trip (median of batches of 1000)" + k));
        double wakeup = median(this::wakeupAcrossCpus);
        String how = "Java: LockSupport.unpark to the parked thread running, after it slept about as long as a lock "
                + "waiter does (1-2 us) on a CPU of its own, median of " + wakeups + " wake-ups" + k;
        out.put(Cost.WAKEUP, new StepEstimate(Cost.WAKEUP, wakeup, how));
        out.put(Cost.SPIN_HANDOFF, new StepEstimate(Cost.SPIN_HANDOFF, wakeup,
                "the wall clock parks a spinning waiter (Sched.parkSpinning), so handing it a lock is a wake-up: " + how));
        return out;
    }

    private interface Timed {
        double nanosEach();
    }

    private double median(Timed t) {
        t.nanosEach(); // warm-up: compiled before it counts
        double[] s = new double[reps];
        for (int i = 0; i < reps; i++) {
            s[i] = t.nanosEach();
        }
        return Medians.of(s);
    }

    private double atomicLocal() {
        AtomicLong word = new AtomicLong();
        long t = System.nanoTime();
        for (long i = 0; i < loops; i++) {
            word.incrementAndGet();
        }
        return (System.nanoTime() - t) / (double) loops;
    }

    private double readLocal() {
        AtomicIntegerArray next = new AtomicIntegerArray(8);
        for (int i = 0; i < 8; i++) {
            next.set(i, (i + 1) % 8);
        }
        int at = 0;
        long t = System.nanoTime();
        for (long i = 0; i < loops; i++) {
            at = next.get(at);
        }
        double ns = (System.nanoTime() - t) / (double) loops;
        return at < 0 ? -1 : ns;
    }

    private double spin() {
        long turns = loops / 10;
        long t = System.nanoTime();
        for (long i = 0; i < turns; i++) {
            Thread.onSpinWait();
        }
        return (System.nanoTime() - t) / (double) turns;
    }

    /**
     * ns per round trip: this thread makes the count odd, the partner even again. The median of batches:
     * when another program takes one of the two CPUs for a time slice, the batches it lands in fall out.
     */
    private double lineRoundTrip() {
        AtomicLong counter = new AtomicLong();
        long batch = 1000;
        long batches = trips / batch;
        Thread partner = new Thread(() -> {
            for (long i = 0; i < batches * batch; i++) {
                while ((counter.get() & 1) == 0) {
                    // busy: the cost of the transfer, not of a pause, is what is measured
                }
                counter.incrementAndGet();
            }
        }, "mmlab-calibrate-pong");
        partner.setDaemon(true);
        partner.start();
        double[] per = new double[(int) batches];
        for (int b = 0; b < batches; b++) {
            long t = System.nanoTime();
            for (long i = 0; i < batch; i++) {
                counter.incrementAndGet();
                while ((counter.get() & 1) != 0) {
                    // busy, as above
                }
            }
            per[b] = (System.nanoTime() - t) / (double) batch;
        }
        join(partner);
        return Medians.of(per);
    }

    /**
     * ns from {@code unpark} to the parked thread running again, after a sleep as short as a lock waiter's.
     * The two threads pass a token back and forth; the waker works on briefly after its {@code unpark}, so
     * the two overlap and sit on two CPUs, then parks a microsecond or two before the token comes back. The
     * sleep's length matters on a virtual machine: a vCPU idle for more than a few microseconds is halted, and
     * waking it took 25-40 us here against about 2 us after a short sleep.
     */
    private double wakeupAcrossCpus() {
        AtomicLong turn = new AtomicLong();
        AtomicLong handedAt = new AtomicLong();
        double[] latency = new double[(int) wakeups];
        Thread self = Thread.currentThread();
        Thread partner = new Thread(() -> passToken(turn, handedAt, latency, 1, self), "mmlab-calibrate-wake");
        partner.setDaemon(true);
        partner.start();
        passToken(turn, handedAt, latency, 0, partner);
        join(partner);
        return Medians.of(latency);
    }

    /**
     * One side of {@link #wakeupAcrossCpus}: turn {@code t} (of the side {@code t % 2}) notes how long its
     * wake-up took ({@code latency[t - 1]}), works, and hands the token to {@code other}.
     */
    private void passToken(AtomicLong turn, AtomicLong handedAt, double[] latency, int side, Thread other) {
        for (long t = side; t <= latency.length; t += 2) {
            while (turn.get() != t) {
                LockSupport.park(this);
            }
            if (t > 0) {
                latency[(int) t - 1] = System.nanoTime() - handedAt.get();
            }
            busy(WORK_NANOS);
            handedAt.set(System.nanoTime());
            turn.incrementAndGet();
            LockSupport.unpark(other);
            busy(WORK_NANOS / 5);
        }
    }

    private static void busy(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    private static void join(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while measuring", e);
        }
    }
}
