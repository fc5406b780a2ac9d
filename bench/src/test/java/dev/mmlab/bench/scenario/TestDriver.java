package dev.mmlab.bench.scenario;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.VmOpsProvider;
import dev.mmlab.api.mem.Page;
import java.util.Map;

/** A legacy-style test driver: its fault needs the mmap read lock and asserts it. */
public final class TestDriver implements VmOps {
    public static final String NAME = "bench-test-driver";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public LockNeed lockNeed(VmOpsCallback callback) {
        return callback == VmOpsCallback.FAULT ? LockNeed.COARSE_READ : LockNeed.COARSE_WRITE;
    }

    @Override
    public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
        context.assertLocked();
        Page page = context.allocator().allocateDevice(vma.pgoffOf(addr));
        return page == null ? VmFault.failed(FaultOutcome.OOM) : VmFault.mapped(page);
    }

    @Override
    public long mmap(VmOpsContext context, Vma vma) {
        return vma.flags() | dev.mmlab.api.VmFlags.VM_IO | dev.mmlab.api.VmFlags.VM_PFNMAP;
    }

    /** Its provider, registered in the test resources. */
    public static final class Provider implements VmOpsProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String description() {
            return "test driver: fault needs the mmap read lock";
        }

        @Override
        public VmOps create(Map<String, String> parameters) {
            if (!parameters.isEmpty()) {
                throw new IllegalArgumentException("takes no parameters");
            }
            return new TestDriver();
        }
    }
}
