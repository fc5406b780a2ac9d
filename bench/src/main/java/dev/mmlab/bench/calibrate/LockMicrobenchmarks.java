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
 */
final class LockMicrobenchmarks {
    private final int reps;
    private final long loops;
    private final long trips;
    private final long handoffs;

    LockMicrobenchmarks(boolean quick) {
        this.reps = quick ? 3 : 7;
        this.loops = quick ? 2_000_000 : 20_000_000;
        this.trips = quick ? 20_000 : 200_000;
        this.handoffs = quick ? 1_000 : 10_000;
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
        out.put(Cost.WAKEUP, new StepEstimate(Cost.WAKEUP, median(this::parkRoundTrip) / 2,
                "Java: two threads hand a token back and forth with LockSupport.park/unpark, half a round trip (median of batches of 20)" + k));
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

    /** ns per round trip: the token goes to the partner and back, each side parked until it has it. */
    private double parkRoundTrip() {
        AtomicLong turn = new AtomicLong();
        Thread self = Thread.currentThread();
        long batch = 20;
        long batches = handoffs / batch;
        Thread partner = new Thread(() -> {
            for (long i = 0; i < batches * batch; i++) {
                while (turn.get() != 2 * i + 1) {
                    LockSupport.park(this);
                }
                turn.incrementAndGet();
                LockSupport.unpark(self);
            }
        }, "mmlab-calibrate-wake");
        partner.setDaemon(true);
        partner.start();
        double[] per = new double[(int) batches];
        long i = 0;
        for (int b = 0; b < batches; b++) {
            long t = System.nanoTime();
            for (long j = 0; j < batch; j++, i++) {
                turn.incrementAndGet();
                LockSupport.unpark(partner);
                while (turn.get() != 2 * i + 2) {
                    LockSupport.park(this);
                }
            }
            per[b] = (System.nanoTime() - t) / (double) batch;
        }
        join(partner);
        return Medians.of(per);
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
