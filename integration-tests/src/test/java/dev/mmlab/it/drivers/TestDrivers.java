package dev.mmlab.it.drivers;

import dev.mmlab.api.Access;
import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.Page;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Drivers written for the tests: one that lies about its lock needs, one that parks in its fault. */
final class TestDrivers {
    private TestDrivers() {}

    /** A device page for a fault, or OOM. */
    static VmFault devicePage(VmOpsContext context, long content) {
        Page page = context.allocator().allocateDevice(content);
        return page == null ? VmFault.failed(FaultOutcome.OOM) : VmFault.mapped(page);
    }

    /**
     * Declares every callback FINE, yet its fault relies on the mmap read lock and its close on the write
     * lock, as an unaudited driver would. Records what each callback held before asserting.
     */
    static final class Liar implements VmOps {
        static final String NAME = "liar";
        final Map<VmOpsCallback, CoarseHold> held = new ConcurrentHashMap<>();

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public LockNeed lockNeed(VmOpsCallback callback) {
            return LockNeed.FINE;
        }

        @Override
        public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
            held.put(VmOpsCallback.FAULT, context.held());
            context.assertLocked();
            return devicePage(context, 1);
        }

        @Override
        public void close(VmOpsContext context, Vma vma) {
            held.put(VmOpsCallback.CLOSE, context.held());
            context.assertWriteLocked();
        }
    }

    /**
     * A legacy driver whose fault declares and asserts the mmap read lock, then parks until released: it
     * holds whatever lock its strategy gave it for as long as the test wants.
     */
    static final class Parking implements VmOps {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public String name() {
            return "parking";
        }

        @Override
        public LockNeed lockNeed(VmOpsCallback callback) {
            return callback == VmOpsCallback.FAULT ? LockNeed.COARSE_READ : VmOps.super.lockNeed(callback);
        }

        @Override
        public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
            context.assertLocked();
            entered.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("parking driver never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return VmFault.failed(FaultOutcome.BUS);
            }
            return devicePage(context, 2);
        }
    }

    /**
     * A driver audited as fine-grained safe (every callback FINE) whose mmap hook parks until released: its
     * mmap holds only what the strategy takes for that one range.
     */
    static final class ParkingMmap implements VmOps {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public String name() {
            return "parking-mmap";
        }

        @Override
        public LockNeed lockNeed(VmOpsCallback callback) {
            return LockNeed.FINE;
        }

        @Override
        public long mmap(VmOpsContext context, Vma vma) {
            entered.countDown();
            try {
                if (!release.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("parking mmap never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return vma.flags();
        }

        @Override
        public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
            return devicePage(context, 4);
        }
    }
}
