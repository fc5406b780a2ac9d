package dev.mmlab.pervma.lock;

import java.util.concurrent.TimeUnit;

/** A named thread that keeps what its body threw, and test-side waits for it to block or finish. */
final class TestThread extends Thread {
    /** The body of a test thread; may throw anything, which {@link #finish()} rethrows. */
    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Body body;
    private volatile Throwable failure;

    private TestThread(String name, Body body) {
        super(name);
        this.body = body;
        setDaemon(true);
    }

    /** Starts {@code body} on a new daemon thread called {@code name}. */
    static TestThread start(String name, Body body) {
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

    /** Waits (up to 10 s) until this thread is parked or waiting: blocked in the call under test. */
    void awaitBlocked() {
        long deadline = System.nanoTime() + WAIT_NANOS;
        for (;;) {
            State s = getState();
            if (s == State.WAITING || s == State.TIMED_WAITING) {
                return;
            }
            if (s == State.TERMINATED) {
                throw new AssertionError(getName() + " finished instead of blocking", failure);
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(getName() + " did not block within 10 s; state " + s);
            }
            Thread.yield();
        }
    }

    /** Joins (up to 10 s) and rethrows what the body threw. */
    void finish() throws InterruptedException {
        join(TimeUnit.NANOSECONDS.toMillis(WAIT_NANOS));
        if (isAlive()) {
            throw new AssertionError(getName() + " still running after 10 s; state " + getState());
        }
        if (failure != null) {
            throw new AssertionError(getName() + " failed", failure);
        }
    }
}
