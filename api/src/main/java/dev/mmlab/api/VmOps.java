package dev.mmlab.api;

import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.PageAllocator;

/**
 * A driver: the callbacks of a VMA that maps something other than anonymous memory or a page-cache file,
 * and the lock each callback needs. Strategies read {@link #lockNeed} and take the coarse lock for exactly
 * the callbacks that need it. A callback not declared is coarse: the safe default, as for a kernel driver
 * nobody audited (fault: the mmap read lock; open, close, mmap: the mmap write lock).
 *
 * <p>Callbacks run on the faulting or calling thread with the declared lock held; a callback may call
 * {@link VmOpsContext#assertLocked}/{@link VmOpsContext#assertWriteLocked} to check that (in checking mode
 * a callback relying on more than it declared fails loudly). Implementations must be thread-safe: faults
 * in one VMA run concurrently under fine-grained strategies.
 */
public interface VmOps {
    /** A stable name, shown in /proc/pid/maps-style dumps and in per-driver counters. */
    String name();

    /** The lock {@code callback} needs. Default: coarse, as Linux holds it. */
    default LockNeed lockNeed(VmOpsCallback callback) {
        return callback == VmOpsCallback.FAULT ? LockNeed.COARSE_READ : LockNeed.COARSE_WRITE;
    }

    /**
     * Produce the page for {@code addr} in {@code vma}. May sleep (a device). Must not keep a reference to the
     * context after returning.
     */
    VmFault fault(VmOpsContext context, Vma vma, long addr, Access access);

    /** A copy of a VMA of this driver appeared (split or fork). */
    default void open(VmOpsContext context, Vma vma) {}

    /**
     * A VMA of this driver went away. Called exactly once per VMA that was published, and once per piece of a
     * split that is unmapped straight away (that piece got {@link #open} without ever being published).
     */
    default void close(VmOpsContext context, Vma vma) {}

    /**
     * The file whose page cache this driver's pages come from, which becomes the VMA's {@code vm_file} (as
     * {@code shmem_zero_setup} sets it in Linux), or null for a device without one. Pages a driver returns
     * from {@link #fault} that belong to a page cache must come from this file at {@link Vma#pgoffOf}.
     * Called by mmap before the {@link #mmap} hook, possibly under no lock of the mm: thread-safe. Default: null.
     */
    default BackingFile vmFile(PageAllocator allocator) {
        return null;
    }

    /**
     * The driver's mmap hook, before {@code vma} is published. May throw {@link ErrnoException} to refuse the
     * mapping (the mmap then fails and changes nothing). Returns the flags to use: Linux drivers add
     * {@code VM_IO | VM_PFNMAP | VM_DONTEXPAND} here.
     */
    default long mmap(VmOpsContext context, Vma vma) {
        return vma.flags();
    }
}
