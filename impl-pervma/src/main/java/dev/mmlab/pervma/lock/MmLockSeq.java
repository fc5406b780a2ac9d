package dev.mmlab.pervma.lock;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/*
 * Design notes
 *
 * What it protects: nothing by itself. It is the mm half of the per-VMA lock: a VMA is write-locked exactly
 * when its vm_lock_seq equals this value, so one increment here unlocks every VMA marked in the cycle.
 *
 * Invariants:
 *  - Only the holder of the mmap write lock increments it (single writer); the value only grows, from 0.
 *    MmLockSeq.NO_SEQ (-1) is therefore never a current value: it is the vm_lock_seq of a VMA never
 *    write-locked (the kernel's UINT_MAX in vma_lock_init).
 *  - endWriteCycle is a release store; read is an acquire load. A reader that sees the new value sees every
 *    change the writer made to the VMAs it had marked (Jann Horn, commit b1f02b95758d "mm: fix memory
 *    ordering for mm_lock_seq and vm_lock_seq", 6.5-rc3, backported to 6.4.y: smp_store_release in
 *    vma_end_write_all, smp_load_acquire in vma_start_read's re-check).
 *
 * What a reader may see mid-update: the old or the new value, never a torn one (64-bit access through a
 * VarHandle is atomic even where plain long writes are not).
 *
 * Follows the 6.4 scheme (include/linux/mm.h, mm_types.h: int mm_lock_seq incremented by
 * vma_end_write_all). 6.13 turned it into a seqcount that is also bumped by mmap_write_lock (odd while
 * write-locked, for speculative readers); this class does not model that half, only the unlock.
 */

/**
 * The mm's {@code mm_lock_seq}: the number of the current mmap write cycle of one address space.
 *
 * <p>A VMA whose {@code vm_lock_seq} equals this value is write-locked; {@link #endWriteCycle()} (what
 * {@code mmap_write_unlock} and {@code mmap_write_downgrade} do through {@code vma_end_write_all}) unlocks all
 * of them at once. Thread-safe; nothing here blocks.
 */
public final class MmLockSeq {
    /** A {@code vm_lock_seq} that never equals a current {@code mm_lock_seq}: "never write-locked". */
    static final long NO_SEQ = -1L;

    private static final VarHandle SEQ;

    static {
        try {
            SEQ = MethodHandles.lookup().findVarHandle(MmLockSeq.class, "seq", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private long seq;

    /** A new mm: cycle 0, nothing write-locked. */
    public MmLockSeq() {
    }

    /**
     * The current value, with acquire semantics ({@code smp_load_acquire}): if it shows a cycle ended, every
     * change made in that cycle is visible. Any thread; no lock needed; never blocks.
     */
    public long read() {
        return (long) SEQ.getAcquire(this);
    }

    /**
     * Ends the current write cycle: increments the value with release semantics, unlocking every VMA
     * write-locked in it ({@code vma_end_write_all}, called by {@code mmap_write_unlock} and
     * {@code mmap_write_downgrade}). Caller holds the mmap write lock, and calls this before releasing or
     * downgrading it. Never blocks.
     */
    public void endWriteCycle() {
        // Single writer (the mmap write lock holder): a plain read of our own last store is enough.
        SEQ.setRelease(this, (long) SEQ.get(this) + 1);
    }

    @Override
    public String toString() {
        return "mm_lock_seq=" + read();
    }
}
