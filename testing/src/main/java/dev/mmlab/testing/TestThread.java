package dev.mmlab.testing;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A named daemon thread for a test whose call must block: it keeps what its body threw, lets the test wait
 * until it is parked in the call under test, and joins it with a timeout that rethrows the body's failure.
 * Daemon, so that a lost wake-up fails the test instead of keeping the JVM alive.
 *
 * <p>"Parked" is {@link Thread.State#WAITING} or {@link Thread.State#TIMED_WAITING}: how every lock in this
 * project waits (LockSupport, Condition, CountDownLatch). A thread blocked on a monitor is not parked.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> {@code failure} is written once by this thread and read by the test after
 *       {@link #join}, whose happens-before makes it visible; it is volatile so that a test polling a stuck
 *       thread also sees it.</li>
 *   <li><b>Lock order.</b> none: takes no lock; it only reads the thread's state.</li>
 * </ul>
 */
public final class TestThread extends Thread {
    /** How long each wait here gives the other thread before the test fails. */
    public static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** The body of a test thread; may throw anything, which {@link #finish()} rethrows. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    private final Body body;
    private volatile Throwable failure;

    private TestThread(String name, Body body) {
        super(name);
        this.body = body;
        setDaemon(true);
    }

    /** Starts {@code body} on a new daemon thread called {@code name}. */
    public static TestThread start(String name, Body body) {
        TestThread t = new TestThread(name, body);
        t.start();
        return t;
    }

    @Override
    public void run() {
        try {
            body.run();
        } catch (Throwable e) {
            failure = e;
        }
    }

    /** Waits (up to {@link #TIMEOUT}) until this thread is parked: blocked in the call under test. */
    public void awaitBlocked() {
        if (!awaitParkedOrEnded(this, Duration.ZERO)) {
            throw new AssertionError(getName() + " finished instead of blocking", failure);
        }
    }

    /** Stays running (not finished) for {@code millis}: shows it is blocked, not merely slow to start. */
    public void assertStillBlockedAfter(long millis) throws InterruptedException {
        join(millis);
        if (!isAlive()) {
            throw new AssertionError(getName() + " finished but should still be blocked", failure);
        }
    }

    /** Joins (up to {@link #TIMEOUT}) and rethrows what the body threw. */
    public void finish() throws InterruptedException {
        join(TIMEOUT.toMillis());
        if (isAlive()) {
            throw new AssertionError(getName() + " still running after " + TIMEOUT.toSeconds() + " s; state " + getState());
        }
        if (failure != null) {
            throw new AssertionError(getName() + " failed", failure);
        }
    }

    /**
     * Joins (up to {@link #TIMEOUT}) and returns what the body threw, or null if it returned: for a call the
     * test expects to fail (an interrupted wait that must end in EINTR).
     */
    public Throwable failure() throws InterruptedException {
        join(TIMEOUT.toMillis());
        if (isAlive()) {
            throw new AssertionError(getName() + " still running after " + TIMEOUT.toSeconds() + " s; state " + getState());
        }
        return failure;
    }

    /**
     * Waits (up to {@link #TIMEOUT}) until {@code t} is parked and still parked {@code settle} later, or has
     * ended. A settle time tells a thread queued on a lock from one passing through a short wait on its way
     * there. Returns true if it is parked, false if it ended; the caller decides what an ended thread means.
     *
     * @throws AssertionError if {@code t} neither parked nor ended in time
     */
    public static boolean awaitParkedOrEnded(Thread t, Duration settle) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        for (;;) {
            State s = t.getState();
            if (s == State.TERMINATED) {
                return false;
            }
            if (isParked(s) && (settle.isZero() || stillParkedAfter(t, settle))) {
                return true;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(t.getName() + " neither blocked nor finished within "
                        + TIMEOUT.toSeconds() + " s; state " + t.getState());
            }
            Thread.yield();
        }
    }

    private static boolean stillParkedAfter(Thread t, Duration settle) {
        try {
            TimeUnit.NANOSECONDS.sleep(settle.toNanos());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + t.getName() + " to block", e);
        }
        return isParked(t.getState());
    }

    private static boolean isParked(State s) {
        return s == State.WAITING || s == State.TIMED_WAITING;
    }
}
