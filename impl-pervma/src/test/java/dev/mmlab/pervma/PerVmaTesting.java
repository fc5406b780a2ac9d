package dev.mmlab.pervma;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.check.Violation;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.testing.TestMms;
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

    /** An address space under pervma with lock form {@code form} and further options as key, value pairs. */
    static Mm newMm(String form, String... keyValues) {
        Map<String, String> options = new HashMap<>();
        options.put("lock", form);
        for (int i = 0; i < keyValues.length; i += 2) {
            options.put(keyValues[i], keyValues[i + 1]);
        }
        return TestMms.create(new PerVmaStrategy(), options);
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
}
