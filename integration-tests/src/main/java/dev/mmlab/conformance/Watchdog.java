package dev.mmlab.conformance;

import dev.mmlab.api.mm.Mm;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.extension.DynamicTestInvocationContext;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A JUnit 5 extension ({@code @ExtendWith(Watchdog.class)}) that fails a test making no progress for
 * {@value #PROPERTY} seconds (default 60) instead of letting it hang CI. The test body runs on a separate
 * thread; this thread watches a global progress stamp that workloads bump with {@link #progress()} (starting
 * a test counts as progress). On a stall it logs and puts into the failure every thread's stack and the
 * holders and waiters of every live address space created through {@link StrategyUnderTest#newMm} or
 * registered with {@link #watch}, then interrupts the test thread.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The progress stamp is one static {@link AtomicLong}. It is global, not per
 *       test, because tests run one at a time in this module and a workload's worker threads (not the test
 *       thread) are the ones that make progress. The watched address spaces are a synchronized weak map; a
 *       dump copies its keys under its monitor. The body runs on its own daemon thread and hands back its
 *       result or failure through {@link AtomicReference}s, read after {@code join()}.</li>
 *   <li><b>Lock order.</b> the watched map's monitor is a leaf, held only to copy the keys; the lock dumps
 *       ({@code isIdle}, {@code describe}) run after it is released and take only a strategy's short internal
 *       locks. The watchdog never waits for an mm lock, so a stuck strategy cannot stall it.</li>
 *   <li><b>What a reader may see mid-update.</b> A dump of a lock in use is a snapshot: holders and waiters may
 *       change while it is written.</li>
 * </ul>
 */
public final class Watchdog implements InvocationInterceptor {
    /** System property: seconds without progress before a test fails. */
    public static final String PROPERTY = "mmlab.watchdog.seconds";

    private static final Logger LOG = LoggerFactory.getLogger(Watchdog.class);
    private static final AtomicLong LAST_PROGRESS = new AtomicLong(System.nanoTime());
    private static final Map<Mm, Boolean> WATCHED = Collections.synchronizedMap(new WeakHashMap<>());

    private final Duration limit;

    /** A body that may throw anything, as a test may. */
    @FunctionalInterface
    public interface Body<T> {
        T call() throws Throwable;
    }

    /** The watchdog with the limit of {@value #PROPERTY} (default 60 s). */
    public Watchdog() {
        this(Duration.ofSeconds(Long.getLong(PROPERTY, 60)));
    }

    /** A watchdog with its own limit (for {@code @RegisterExtension}). */
    public Watchdog(Duration limit) {
        this.limit = limit;
    }

    /** Something moved forward. Any thread; never blocks. */
    public static void progress() {
        LAST_PROGRESS.set(System.nanoTime());
    }

    /** Include {@code mm}'s lock holders in stall reports while it is reachable. Returns {@code mm}. */
    public static Mm watch(Mm mm) {
        WATCHED.put(mm, Boolean.TRUE);
        return mm;
    }

    @Override
    public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> invocationContext,
            ExtensionContext extensionContext) throws Throwable {
        run(extensionContext.getDisplayName(), limit, invocation::proceed);
    }

    @Override
    public void interceptTestTemplateMethod(Invocation<Void> invocation,
            ReflectiveInvocationContext<Method> invocationContext, ExtensionContext extensionContext) throws Throwable {
        run(extensionContext.getDisplayName(), limit, invocation::proceed);
    }

    @Override
    public void interceptDynamicTest(Invocation<Void> invocation, DynamicTestInvocationContext invocationContext,
            ExtensionContext extensionContext) throws Throwable {
        run(extensionContext.getDisplayName(), limit, invocation::proceed);
    }

    /**
     * Run {@code body} on a new thread and return its result, failing with an {@link AssertionError} carrying a
     * thread and lock dump if no {@link #progress()} happens for {@code limit}. Blocks until the body ends or
     * the stall is declared.
     */
    public static <T> T run(String name, Duration limit, Body<T> body) throws Throwable {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread runner = new Thread(() -> {
            try {
                result.set(body.call());
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "watched: " + name);
        runner.setDaemon(true);
        progress();
        runner.start();
        long limitNanos = limit.toNanos();
        while (true) {
            runner.join(Math.max(1, Math.min(1000, limit.toMillis() / 4)));
            if (!runner.isAlive()) {
                break;
            }
            if (System.nanoTime() - LAST_PROGRESS.get() > limitNanos) {
                String dump = dump();
                String message = "watchdog: '" + name + "' made no progress for " + limit.toMillis() + " ms\n" + dump;
                LOG.error(message);
                runner.interrupt();
                runner.join(2000);
                AssertionError stalled = new AssertionError(message);
                stalled.setStackTrace(runner.getStackTrace().length > 0 ? runner.getStackTrace() : stalled.getStackTrace());
                throw stalled;
            }
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return result.get();
    }

    /** Every thread's stack, then every watched address space's lock holders and waiters. */
    public static String dump() {
        StringBuilder sb = new StringBuilder("--- threads ---\n");
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            Thread t = e.getKey();
            sb.append('"').append(t.getName()).append("\" ").append(t.getState()).append('\n');
            for (StackTraceElement frame : e.getValue()) {
                sb.append("    at ").append(frame).append('\n');
            }
        }
        sb.append("--- mm lock holders ---\n");
        List<Mm> mms;
        synchronized (WATCHED) {
            mms = new ArrayList<>(WATCHED.keySet());
        }
        for (Mm mm : mms) {
            if (!mm.mmLock().isIdle()) {
                sb.append(mm).append(": ").append(mm.mmLock().describe()).append('\n');
            }
        }
        return sb.toString();
    }
}
