package dev.mmlab.rangelock;

import dev.mmlab.api.Access;
import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.Vma;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A test driver whose callbacks can be made to stop on a latch, so that a test can hold an operation inside
 * its lock. Each callback's lock need is configurable (default FINE).
 */
final class BlockingDriver implements VmOps {
    private final Map<VmOpsCallback, LockNeed> needs = new EnumMap<>(VmOpsCallback.class);
    private final Map<VmOpsCallback, CountDownLatch> entered = new EnumMap<>(VmOpsCallback.class);
    private final Map<VmOpsCallback, CountDownLatch> release = new EnumMap<>(VmOpsCallback.class);
    private volatile CoarseHold lastFaultHeld;

    BlockingDriver() {
        for (VmOpsCallback c : VmOpsCallback.values()) {
            needs.put(c, LockNeed.FINE);
        }
    }

    BlockingDriver need(VmOpsCallback callback, LockNeed need) {
        needs.put(callback, need);
        return this;
    }

    /** Make the next calls of {@code callback} stop until {@link #release} is counted down. */
    BlockingDriver blockIn(VmOpsCallback callback) {
        entered.put(callback, new CountDownLatch(1));
        release.put(callback, new CountDownLatch(1));
        return this;
    }

    void awaitEntered(VmOpsCallback callback) throws InterruptedException {
        if (!entered.get(callback).await(10, TimeUnit.SECONDS)) {
            throw new AssertionError(callback + " was never entered");
        }
    }

    void release(VmOpsCallback callback) {
        release.get(callback).countDown();
    }

    CoarseHold lastFaultHeld() {
        return lastFaultHeld;
    }

    private void maybeBlock(VmOpsCallback callback) {
        CountDownLatch in = entered.get(callback);
        if (in == null) {
            return;
        }
        in.countDown();
        try {
            if (!release.get(callback).await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException(callback + " was never released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String name() {
        return "blocking";
    }

    @Override
    public LockNeed lockNeed(VmOpsCallback callback) {
        return needs.get(callback);
    }

    @Override
    public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
        lastFaultHeld = context.held();
        maybeBlock(VmOpsCallback.FAULT);
        return VmFault.mapped(context.allocator().allocateDevice(addr));
    }

    @Override
    public void open(VmOpsContext context, Vma vma) {
        maybeBlock(VmOpsCallback.OPEN);
    }

    @Override
    public void close(VmOpsContext context, Vma vma) {
        maybeBlock(VmOpsCallback.CLOSE);
    }

    @Override
    public long mmap(VmOpsContext context, Vma vma) {
        maybeBlock(VmOpsCallback.MMAP);
        return vma.flags();
    }
}
