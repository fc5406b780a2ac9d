package dev.mmlab.pervma;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.check.Violation;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Address spaces under pervma for tests, and a driver whose fault can be held inside. */
final class PerVmaTesting {
    private PerVmaTesting() {}

    /** The two lock forms, as the {@code lock} option names them. */
    static Stream<String> forms() {
        return Stream.of("rwsem", "refcount");
    }

    static Mm newMm(String form, String... keyValues) {
        return newMm(MmConfig.defaults(), form, keyValues);
    }

    static Mm newMm(MmConfig config, String form, String... keyValues) {
        Map<String, String> options = new HashMap<>();
        options.put("lock", form);
        for (int i = 0; i < keyValues.length; i += 2) {
            options.put(keyValues[i], keyValues[i + 1]);
        }
        LockingStrategy s = new PerVmaStrategy();
        return Mm.create(s, StrategyConfig.of(s.name(), s.options(), options), config);
    }

    static PerVmaInstance parts(Mm mm) {
        return (PerVmaInstance) mm.parts();
    }

    static List<Violation> check(Mm mm) {
        return InvariantChecker.check(mm);
    }

    /**
     * A device whose fault is declared safe under a VMA lock and can be held: while {@link #hold} is armed, the
     * next fault signals {@link #entered} and waits for {@link #release}. Maps a fresh device page.
     */
    static final class HoldingDriver implements VmOps {
        private volatile CountDownLatch gate;
        private volatile CountDownLatch entered;
        private final java.util.concurrent.atomic.AtomicBoolean armed = new java.util.concurrent.atomic.AtomicBoolean();

        @Override
        public String name() {
            return "holding";
        }

        @Override
        public LockNeed lockNeed(VmOpsCallback callback) {
            return callback == VmOpsCallback.FAULT ? LockNeed.FINE : VmOps.super.lockNeed(callback);
        }

        /** The next fault waits inside the driver until {@link #release}. */
        void hold() {
            entered = new CountDownLatch(1);
            gate = new CountDownLatch(1);
            armed.set(true);
        }

        void awaitEntered() throws InterruptedException {
            if (!entered.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("no fault entered the driver within 10 s");
            }
        }

        void release() {
            gate.countDown();
        }

        @Override
        public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
            if (armed.compareAndSet(true, false)) {
                CountDownLatch g = gate;
                entered.countDown();
                try {
                    if (!g.await(10, TimeUnit.SECONDS)) {
                        return VmFault.failed(FaultOutcome.BUS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return VmFault.failed(FaultOutcome.BUS);
                }
            }
            return VmFault.mapped(context.allocator().allocateDevice(addr));
        }
    }

    /** A named daemon thread that keeps what its body threw; waits for it to block or finish. */
    static final class Worker extends Thread {
        interface Body {
            void run() throws Exception;
        }

        private final Body body;
        private volatile Throwable failure;

        private Worker(String name, Body body) {
            super(name);
            this.body = body;
            setDaemon(true);
        }

        static Worker start(String name, Body body) {
            Worker w = new Worker(name, body);
            w.start();
            return w;
        }

        @Override
        public void run() {
            try {
                body.run();
            } catch (Throwable e) {
                failure = e;
            }
        }

        /** Waits (up to 10 s) until this thread is parked: blocked in the call under test. */
        void awaitBlocked() {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
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

        /** Stays running (not finished) for {@code millis}: shows it is blocked, not merely slow to start. */
        void assertStillBlockedAfter(long millis) throws InterruptedException {
            join(millis);
            if (!isAlive()) {
                throw new AssertionError(getName() + " finished but should still be blocked", failure);
            }
        }

        /** Joins (up to 10 s) and rethrows what the body threw. */
        void finish() throws InterruptedException {
            join(10_000);
            if (isAlive()) {
                throw new AssertionError(getName() + " still running after 10 s; state " + getState());
            }
            if (failure != null) {
                throw new AssertionError(getName() + " failed", failure);
            }
        }
    }
}
