package dev.mmlab.conformance;

import dev.mmlab.api.sync.Mutex;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.List;

/**
 * A cyclic barrier that waits through the {@link Sched} seam, so that a workload using it runs on the wall
 * clock and under a virtual-time scheduler alike ({@link java.util.concurrent.CyclicBarrier} blocks where a
 * scheduler cannot see it). The last party to arrive runs the action, then releases the others.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> {@code mutex} guards the arrival count, the generation, the broken flag
 *       and the list of waiting threads; a waiter re-reads the generation under it after every wake-up, since
 *       a park may return early.</li>
 *   <li><b>Lock order.</b> The action runs under {@code mutex} (like CyclicBarrier's, while every other
 *       party waits), and may take the locks of what it checks; nothing that holds those locks waits for the
 *       barrier's mutex, because every other party is parked outside it.</li>
 * </ul>
 */
final class SeamBarrier {
    private final int parties;
    private final Runnable action;
    private final Mutex mutex = new Mutex();
    private final List<Thread> waiting = new ArrayList<>();
    private int arrived;
    private long generation;
    private boolean broken;

    SeamBarrier(int parties, Runnable action) {
        this.parties = parties;
        this.action = action;
    }

    /**
     * Waits until every party arrived, at most {@code timeoutNanos} on the caller's clock. Returns false when the
     * barrier broke: a party timed out (this one or another), after which every await fails at once.
     */
    boolean await(long timeoutNanos) {
        long generationAtArrival;
        mutex.lock();
        try {
            if (broken) {
                return false;
            }
            generationAtArrival = generation;
            if (++arrived == parties) {
                try {
                    action.run();
                } finally {
                    arrived = 0;
                    generation++;
                    wakeAll();
                }
                return true;
            }
            waiting.add(Thread.currentThread());
        } finally {
            mutex.unlock();
        }
        long deadline = Sched.nanoTime() + timeoutNanos;
        while (true) {
            mutex.lock();
            try {
                if (generation != generationAtArrival) {
                    return true;
                }
                if (broken || Sched.nanoTime() - deadline >= 0) {
                    broken = true;
                    wakeAll();
                    return false;
                }
            } finally {
                mutex.unlock();
            }
            Sched.parkNanos(this, deadline - Sched.nanoTime());
        }
    }

    private void wakeAll() {
        waiting.forEach(Sched::unpark);
        waiting.clear();
    }
}
