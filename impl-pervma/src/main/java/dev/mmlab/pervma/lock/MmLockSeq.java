package dev.mmlab.pervma.lock;

import dev.mmlab.api.sync.Sched;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The mm's {@code mm_lock_seq}: the number of the current mmap write cycle of one address space.
 *
 * <p>A VMA whose {@code vm_lock_seq} equals this value is write-locked; {@link #endWriteCycle()} (what
 * {@code mmap_write_unlock} and {@code mmap_write_downgrade} do through {@code vma_end_write_all}) unlocks all
 * of them at once. Thread-safe; nothing here blocks.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Nothing by itself. It is the mm half of the per-VMA lock: a VMA is
 *       write-locked exactly when its {@code vm_lock_seq} equals this value, so one increment here unlocks
 *       every VMA marked in the cycle. The value itself is written only by the holder of the mmap write
 *       lock.</li>
 *   <li><b>Lock order.</b> none: not a lock. {@link #endWriteCycle()} runs under the mmap write lock, just
 *       before it is released or downgraded; {@link #read()} runs anywhere, holding anything, and never
 *       blocks.</li>
 *   <li><b>Invariants.</b>
 *       <ul>
 *         <li>Only the holder of the mmap write lock increments it (single writer); the value only grows, from
 *             0. {@code MmLockSeq.NO_SEQ} (-1) is therefore never a current value: it is the
 *             {@code vm_lock_seq} of a VMA never write-locked (the kernel's {@code UINT_MAX} in
 *             {@code vma_lock_init}).</li>
 *         <li>{@code endWriteCycle} is a release store; {@code read} is an acquire load. A reader that sees
 *             the new value sees every change the writer made to the VMAs it had marked (Jann Horn, commit
 *             b1f02b95758d "mm: fix memory ordering for mm_lock_seq and vm_lock_seq", 6.5-rc3, backported to
 *             6.4.y: {@code smp_store_release} in {@code vma_end_write_all}, {@code smp_load_acquire} in
 *             {@code vma_start_read}'s re-check).</li>
 *       </ul></li>
 *   <li><b>What a reader may see mid-update.</b> The old or the new value, never a torn one (64-bit access
 *       through a {@link VarHandle} is atomic even where plain long writes are not).</li>
 *   <li><b>Follows.</b> The 6.4 scheme ({@code include/linux/mm.h}, {@code mm_types.h}: {@code int mm_lock_seq}
 *       incremented by {@code vma_end_write_all}). 6.13 turned it into a seqcount that is also bumped by
 *       {@code mmap_write_lock} (odd while write-locked, for speculative readers); this class does not model
 *       that half, only the unlock.</li>
 * </ul>
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
        Sched.access(this, false);
        return (long) SEQ.getAcquire(this);
    }

    /**
     * Ends the current write cycle: increments the value with release semantics, unlocking every VMA
     * write-locked in it ({@code vma_end_write_all}, called by {@code mmap_write_unlock} and
     * {@code mmap_write_downgrade}). Caller holds the mmap write lock, and calls this before releasing or
     * downgrading it. Never blocks.
     */
    public void endWriteCycle() {
        Sched.access(this, true);
        // Single writer (the mmap write lock holder): a plain read of our own last store is enough.
        SEQ.setRelease(this, (long) SEQ.get(this) + 1);
    }

    @Override
    public String toString() {
        return "mm_lock_seq=" + read();
    }
}
