package dev.mmlab.drivers;

import static dev.mmlab.api.VmFlags.VM_DONTDUMP;
import static dev.mmlab.api.VmFlags.VM_DONTEXPAND;
import static dev.mmlab.api.VmFlags.VM_IO;
import static dev.mmlab.api.VmFlags.VM_PFNMAP;

import dev.mmlab.api.Access;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.Vma;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A legacy frame-buffer-like PFN map, written the way old drivers are: its mmap hook marks the VMA
 * {@code VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP} (as {@code remap_pfn_range} does), and its
 * {@code fault} and {@code close} rely on the mmap lock, so they declare it ({@code fault}:
 * {@link LockNeed#COARSE_READ}, {@code close}: {@link LockNeed#COARSE_WRITE}) and assert it
 * ({@code mmap_assert_locked}, {@code mmap_assert_write_locked}). {@code open} and {@code mmap} are left
 * undeclared: coarse write, the default for a driver nobody audited.
 *
 * <p>Every fault hands out a fresh device page holding the frame buffer's scan-out pattern for that offset
 * (the model has refcounted pages where Linux maps raw PFNs); what a process writes lives until the PTE is
 * zapped. A fine-grained strategy must fall back to the coarse lock for every fault here: the cost of one
 * legacy driver beside fine-grained work.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The driver keeps no per-mapping state: each fault hands out a fresh page,
 *       and the PTE that maps it is the engine's (under its PTL). The size is final; the fault and close
 *       counts are {@link AtomicLong}s, bumped by many threads at once. What the callbacks rely on is the mmap
 *       lock they declare: {@code fault} the read lock, {@code close} (and, undeclared, {@code open} and
 *       {@code mmap}) the write lock; each asserts it, so a strategy that calls it with less fails loudly in
 *       checking mode.</li>
 *   <li><b>Lock order.</b> none of its own: the callbacks run under the mmap lock they declare and never under
 *       a PTL. {@code fault} allocates a page (which may stall in reclaim) holding the mmap read lock.</li>
 * </ul>
 */
public final class LegacyFramebufferDriver implements VmOps {
    public static final String NAME = "legacy-fb";
    /** Flags the mmap hook adds. */
    public static final long PFNMAP_FLAGS = VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;

    private final long sizeBytes;
    private final AtomicLong faults = new AtomicLong();
    private final AtomicLong closes = new AtomicLong();

    /** @param sizeBytes frame-buffer size; a mapping beyond it is refused with EINVAL */
    public LegacyFramebufferDriver(long sizeBytes) {
        this.sizeBytes = sizeBytes;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public LockNeed lockNeed(VmOpsCallback callback) {
        switch (callback) {
            case FAULT:
                return LockNeed.COARSE_READ;
            case CLOSE:
                return LockNeed.COARSE_WRITE;
            default:
                return VmOps.super.lockNeed(callback);
        }
    }

    /** The scan-out pattern of frame-buffer page {@code index}: what a fresh fault maps there. */
    public static long scanout(long index) {
        return 0xfb00_0000_0000_0000L | index;
    }

    /** Caller holds the mmap write lock (undeclared: coarse). Refuses a range beyond the frame buffer. */
    @Override
    public long mmap(VmOpsContext context, Vma vma) {
        context.assertWriteLocked();
        long endBytes = (vma.pgoff() << Linux.PAGE_SHIFT) + vma.length();
        if (vma.pgoff() < 0 || endBytes > sizeBytes) {
            throw ErrnoException.of(Errno.EINVAL, "%s: offset %#x + length %#x is beyond the frame buffer (%#x bytes)",
                    NAME, vma.pgoff() << Linux.PAGE_SHIFT, vma.length(), sizeBytes);
        }
        return vma.flags() | PFNMAP_FLAGS;
    }

    /** Caller holds the mmap read lock (declared and asserted). Allocates a page; does not sleep otherwise. */
    @Override
    public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
        context.assertLocked();
        faults.incrementAndGet();
        long index = vma.pgoffOf(addr);
        if ((index << Linux.PAGE_SHIFT) >= sizeBytes) {
            return VmFault.failed(FaultOutcome.BUS);
        }
        return VmFault.mappedOrOom(context.allocator().allocateDevice(scanout(index)));
    }

    /** Caller holds the mmap write lock (declared and asserted). */
    @Override
    public void open(VmOpsContext context, Vma vma) {
        context.assertWriteLocked();
    }

    /** Caller holds the mmap write lock (declared and asserted). */
    @Override
    public void close(VmOpsContext context, Vma vma) {
        context.assertWriteLocked();
        closes.incrementAndGet();
    }

    /** Faults served so far (not counting those a strategy retried before calling the driver). */
    public long faultCount() {
        return faults.get();
    }

    /** VMAs closed so far. */
    public long closeCount() {
        return closes.get();
    }

    /** The {@code legacy-fb} provider: {@code size}. */
    public static final class Provider extends ShippedProvider {
        public Provider() {
            super(NAME, "legacy frame-buffer PFN map (VM_IO|VM_PFNMAP); fault needs the mmap read lock, close the "
                    + "write lock", Map.of("size", "8m"));
        }

        @Override
        VmOps create(DriverParams p) {
            return new LegacyFramebufferDriver(p.size("size"));
        }
    }
}
