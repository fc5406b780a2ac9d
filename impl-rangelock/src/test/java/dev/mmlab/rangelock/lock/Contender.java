package dev.mmlab.rangelock.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.mmlab.rangelock.lock.RangeLock.Handle;
import dev.mmlab.testing.TestThread;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A daemon thread making one blocking lock call, so a test can watch it wait, interrupt it, and join it. */
final class Contender {

    private static final long TIMEOUT_MILLIS = 10_000;

    private final Thread thread;
    private final CompletableFuture<Handle> result = new CompletableFuture<>();

    private Contender(String name, Callable<Handle> call) {
        thread = new Thread(() -> {
            try {
                result.complete(call.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        }, name);
        thread.setDaemon(true); // a lost wake-up must fail the test, not keep the JVM alive
    }

    static Contender start(String name, Callable<Handle> call) {
        Contender c = new Contender(name, call);
        c.thread.start();
        return c;
    }

    /** Starts the call and returns once its thread is parked, i.e. it waits for the lock. */
    static Contender startBlocked(String name, Callable<Handle> call) {
        Contender c = start(name, call);
        c.awaitParked();
        return c;
    }

    /** Waits until the thread parks (WAITING or TIMED_WAITING); fails if it finishes instead. */
    void awaitParked() {
        if (!TestThread.awaitParkedOrEnded(thread, Duration.ZERO)) {
            fail(thread.getName() + " should be waiting but finished with " + describeResult());
        }
    }

    /** Asserts the call is still waiting after giving it a moment to (wrongly) proceed. */
    void assertStillWaiting() throws InterruptedException {
        Thread.sleep(50);
        assertThat(result).as(thread.getName() + " should still be waiting").isNotDone();
    }

    void interrupt() {
        thread.interrupt();
    }

    /** Waits for the call to return its handle. */
    Handle granted() throws InterruptedException, ExecutionException, TimeoutException {
        return result.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Waits for the call to fail and returns its exception. */
    Throwable failure() throws InterruptedException, TimeoutException {
        try {
            Handle h = result.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            return fail(thread.getName() + " should have failed but was granted " + h);
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

    private String describeResult() {
        try {
            return String.valueOf(result.getNow(null));
        } catch (RuntimeException e) {
            return e.toString();
        }
    }
}
