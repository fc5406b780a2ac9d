package dev.mmlab.rwsem;

import dev.mmlab.api.Access;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A driver for rwsem tests whose close can be held inside. */
final class RwsemTesting {
    private RwsemTesting() {}

    /** A driver whose close signals {@code entered} and then waits for {@code release}. */
    static VmOps blockingClose(LockNeed closeNeed, CountDownLatch entered, CountDownLatch release) {
        return new VmOps() {
            @Override
            public String name() {
                return "blocking-close";
            }

            @Override
            public LockNeed lockNeed(VmOpsCallback callback) {
                return callback == VmOpsCallback.CLOSE ? closeNeed : LockNeed.FINE;
            }

            @Override
            public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
                return VmFault.mapped(context.allocator().allocateDevice(addr));
            }

            @Override
            public void close(VmOpsContext context, Vma vma) {
                entered.countDown();
                try {
                    if (!release.await(10, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("test never released the close");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
    }
}
