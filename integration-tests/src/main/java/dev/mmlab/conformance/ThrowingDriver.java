package dev.mmlab.conformance;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.Page;

/**
 * A driver whose chosen callback throws a {@link RuntimeException} (a bug in a driver, not a refusal), with
 * Linux's default lock needs (coarse for every callback). Its faults hand out device pages. Thread-safe.
 */
public final class ThrowingDriver implements VmOps {
    /** Thrown by the failing callback; the message names it. */
    public static final class DriverBug extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DriverBug(String message) {
            super(message);
        }
    }

    private final VmOpsCallback failing;

    /** A driver whose {@code failing} callback throws; null for a driver that never throws. */
    public ThrowingDriver(VmOpsCallback failing) {
        this.failing = failing;
    }

    @Override
    public String name() {
        return "throwing-driver";
    }

    private void maybeThrow(VmOpsCallback callback) {
        if (callback == failing) {
            throw new DriverBug("injected driver bug in " + callback);
        }
    }

    @Override
    public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
        maybeThrow(VmOpsCallback.FAULT);
        Page p = context.allocator().allocateDevice(addr);
        return p == null ? VmFault.failed(FaultOutcome.OOM) : VmFault.mapped(p);
    }

    @Override
    public void open(VmOpsContext context, Vma vma) {
        maybeThrow(VmOpsCallback.OPEN);
    }

    @Override
    public void close(VmOpsContext context, Vma vma) {
        maybeThrow(VmOpsCallback.CLOSE);
    }

    @Override
    public long mmap(VmOpsContext context, Vma vma) {
        maybeThrow(VmOpsCallback.MMAP);
        return vma.flags();
    }
}
