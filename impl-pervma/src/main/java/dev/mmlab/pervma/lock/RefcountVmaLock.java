package dev.mmlab.pervma.lock;

import dev.mmlab.api.sync.Sched;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The per-VMA lock in its Linux 6.15 form: one reference count ({@code vm_refcnt}) that is at once the
 * attached flag, the reader count and the writer's "readers excluded" bit, plus {@code vm_lock_seq}.
 * Thread-safe. See {@link VmaLock} for the protocol; each method states what its caller must hold.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>Follows.</b> Suren Baghdasaryan, "mm: replace vm_lock and detached flag with a reference count"
 *       (6.15) and the {@code refcount_t} limit helpers it added
 *       ({@code __refcount_inc_not_zero_limited_acquire}). Kernel code read: {@code mm/mmap_lock.c}
 *       ({@code __vma_enter_locked}, {@code __vma_exit_locked}, {@code __vma_start_write},
 *       {@code vma_mark_detached}, {@code vma_start_read}, {@code lock_vma_under_rcu}) and
 *       {@code include/linux/mmap_lock.h} ({@code vma_refcount_put}, {@code is_vma_writer_only},
 *       {@code vma_mark_attached}); in newer trees the same steps are named
 *       {@code __vma_start_exclude_readers} / {@code __vma_end_exclude_readers} /
 *       {@code VM_REFCNT_EXCLUDE_READERS_FLAG}. The ordering rules come from Jann Horn's b1f02b95758d
 *       (6.5-rc3).</li>
 *   <li><b>What protects what.</b> The VMA's fields, against page faults that run without the mmap lock.
 *       Writers are already serialised by the mmap write lock; this only keeps readers and that one writer
 *       apart. {@code vmRefcnt}, the only lock word (the kernel's {@code vm_refcnt}):
 *       <ul>
 *         <li>0: detached; no reader can get in (increments need a nonzero count);</li>
 *         <li>1: attached, no readers;</li>
 *         <li>1 + n: attached, n readers (1 + n &lt;= {@code VMA_REF_LIMIT});</li>
 *         <li>OFFSET + 1 + n: a writer in {@code startWrite}, waiting for n readers to leave;</li>
 *         <li>OFFSET + n: a writer in {@code markDetached} (attach reference dropped), waiting for n
 *             readers.</li>
 *       </ul>
 *       Readers increment only when 0 &lt; count &lt; {@code VMA_REF_LIMIT}, so never once OFFSET is added
 *       (OFFSET &gt; limit). Other state:
 *       <ul>
 *         <li>{@code vmLockSeq}: written only by the writer holding the mmap write lock, while OFFSET is in the
 *             count or the VMA is detached (so no reader holds it); read reliably by a reader holding a
 *             reference, racily for the early bail-out. volatile (stronger than the kernel's
 *             {@code WRITE_ONCE}; a plain long could tear).</li>
 *         <li>{@code writer}: the thread waiting in {@code startWrite}/{@code markDetached}, the kernel's
 *             per-mm rcuwait ({@code vma_writer_wait}). Set before OFFSET is added, cleared once the count
 *             reached its target. A reader whose decrement leaves "writer only" ({@code is_vma_writer_only})
 *             unparks it. Only one writer per VMA can exist (the mmap write lock); claiming the field by CAS
 *             turns a second one into an {@link IllegalStateException} instead of a lost wake-up.</li>
 *         <li>{@code detaching}: true while {@code markDetached} runs; only for {@code readers()}, which has
 *             to know whether the count still includes the attach reference.</li>
 *       </ul></li>
 *   <li><b>Lock order.</b> mmap write lock &rarr; this VMA's count: {@code startWrite} and
 *       {@code markDetached} wait (spinning, then parked) for the readers inside while their caller holds the
 *       mmap write lock. A reader takes its reference without the mmap lock and never waits; it holds the
 *       reference across its fault, under which the engine takes a PTL, and never takes the mmap lock while
 *       holding it.</li>
 *   <li><b>No lost wake-up.</b> The writer stores {@code writer} then reads the count, the reader changes the
 *       count then reads {@code writer}, all volatile, so at least one of them sees the other's store. The
 *       writer spins briefly ({@link Sched#spinWait()}) before parking, because readers usually leave
 *       within microseconds; the kernel sleeps at once, but a park/unpark pair costs more than that on a small
 *       machine.</li>
 *   <li><b>Invariants.</b>
 *       <ul>
 *         <li>A successful reader incremented a nonzero count without OFFSET (acquire), then saw
 *             {@code vmLockSeq} != the {@code mm_lock_seq} it read afresh (acquire). A writer that marks the
 *             VMA later adds OFFSET first and waits for that reader's decrement; one that marked it earlier
 *             removed OFFSET after the mark, so the reader's increment (later in the count's modification
 *             order) sees the mark and the re-check fails.</li>
 *         <li>{@code markDetached} may find readers: only ones that incremented before noticing the VMA is
 *             write-locked, and that are about to decrement again. It waits for them
 *             ({@code refcount_dec_and_test} failed &rarr; enter locked with target OFFSET &rarr; exit to 0), so
 *             when it returns the count is 0 and stays 0 until {@code markAttached}.</li>
 *         <li>Readers never block; the writer blocks only on readers whose increment preceded its OFFSET.</li>
 *       </ul></li>
 *   <li><b>What a reader may see mid-update.</b> A stale {@code vmLockSeq} in the early check (spurious
 *       fallback, or caught by the re-check); a nonzero count without the attach reference while
 *       {@code markDetached} waits (it then fails the sequence re-check, since the VMA is write-locked in the
 *       current cycle).</li>
 * </ul>
 */
public final class RefcountVmaLock implements VmaLock {
    /** Added by a writer to shut new readers out ({@code VMA_LOCK_OFFSET}). */
    static final int VMA_LOCK_OFFSET = 0x4000_0000;
    /** Readers increment only below this ({@code VMA_REF_LIMIT}), so never while the offset is present. */
    static final int VMA_REF_LIMIT = VMA_LOCK_OFFSET - 1;
    /** Polls of the count before a waiting writer parks. */
    private static final int WRITER_SPINS = 128;

    private static final VarHandle WRITER;

    static {
        try {
            WRITER = MethodHandles.lookup().findVarHandle(RefcountVmaLock.class, "writer", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final AtomicInteger vmRefcnt = new AtomicInteger();
    private volatile long vmLockSeq = MmLockSeq.NO_SEQ;
    private volatile Thread writer;
    private volatile boolean detaching;

    /** A new VMA's lock: detached (count 0), never write-locked ({@code vma_lock_init}). */
    public RefcountVmaLock() {
    }

    /** For tests: start from a given count (to reach {@code VMA_REF_LIMIT} without a billion readers). */
    RefcountVmaLock(int initialRefcnt) {
        vmRefcnt.set(initialRefcnt);
    }

    /**
     * {@code vma_start_read} (6.15): early sequence check; increment the count if it is nonzero and below
     * {@code VMA_REF_LIMIT} (fails on a detached VMA and while a writer has added the offset); re-check the
     * sequence against a fresh acquire read of {@code mm_lock_seq}, dropping the reference if it matches. No
     * lock needed; never blocks. See {@link VmaLock#tryStartRead}.
     */
    @Override
    public boolean tryStartRead(MmLockSeq mm) {
        Sched.access(this, true);
        if (vmLockSeq == mm.read()) {
            return false;
        }
        if (!refcountIncNotZeroLimited()) {
            return false;
        }
        // Our reference keeps writers from changing vmLockSeq; mm.read() must be fresh (see VmaLock).
        if (vmLockSeq == mm.read()) {
            refcountPut();
            return false;
        }
        return true;
    }

    /**
     * {@code vma_end_read} / {@code vma_refcount_put}: drop the reference; if only a waiting writer is left,
     * wake it. Never blocks.
     */
    @Override
    public void endRead() {
        Sched.access(this, true);
        refcountPut();
    }

    /**
     * {@code vma_start_write} / {@code __vma_start_write} (6.15). Caller holds the mmap write lock. Idempotent
     * within a cycle. Otherwise adds {@code VMA_LOCK_OFFSET} (new readers now fail), waits uninterruptibly
     * until the count is {@code VMA_LOCK_OFFSET + 1} (only the attach reference left), sets
     * {@code vm_lock_seq}, and removes the offset. On a detached VMA it only sets the sequence. Blocks until
     * the readers inside leave; an interrupt stays pending.
     */
    @Override
    public void startWrite(long mmLockSeq) {
        if (vmLockSeq == mmLockSeq) {
            return;
        }
        Sched.access(this, true);
        boolean excluded = startExcludeReaders(false);
        vmLockSeq = mmLockSeq;
        if (excluded && endExcludeReaders()) {
            throw new IllegalStateException("VMA became detached while vma_start_write held it (" + this
                    + "): vma_mark_detached was called without the mmap write lock");
        }
    }

    /** {@code vma->vm_lock_seq == mm_lock_seq}. Reliable under the mmap write lock; never blocks. */
    @Override
    public boolean isWriteLocked(long mmLockSeq) {
        return vmLockSeq == mmLockSeq;
    }

    /**
     * {@code vma_mark_detached} (6.15): drop the attach reference. Caller holds the mmap write lock and has
     * write-locked this VMA. If readers raced in (they incremented before seeing the VMA write-locked, and
     * are about to back out), adds {@code VMA_LOCK_OFFSET} and waits, uninterruptibly, until they are gone.
     * Returns with the count at 0.
     */
    @Override
    public void markDetached() {
        // Only the mmap write lock holder moves the count to or from 0, so this check cannot race.
        if (vmRefcnt.get() == 0) {
            throw new IllegalStateException("vma_mark_detached on a VMA that is not attached (" + this + ")");
        }
        detaching = true;
        try {
            if (vmRefcnt.decrementAndGet() == 0) {
                return; // the usual case: no reader inside
            }
            if (startExcludeReaders(true) && !endExcludeReaders()) {
                throw new IllegalStateException("VMA still referenced after vma_mark_detached waited for its "
                        + "readers (" + this + "): a reader got in while the offset was set");
            }
        } finally {
            detaching = false;
        }
    }

    /**
     * {@code vma_mark_attached} (6.15): set the count from 0 to 1 (a release store, so a reader that then
     * gets a reference sees the VMA as initialised). Caller holds the mmap write lock and has write-locked
     * this VMA. Never blocks.
     */
    @Override
    public void markAttached() {
        if (!vmRefcnt.compareAndSet(0, 1)) {
            throw new IllegalStateException("vma_mark_attached on a VMA that is already attached (" + this + ")");
        }
    }

    /** {@code !vma_is_attached}: the count is 0. Any thread; never blocks. */
    @Override
    public boolean isDetached() {
        return vmRefcnt.get() == 0;
    }

    @Override
    public int readers() {
        int refs = vmRefcnt.get() & ~VMA_LOCK_OFFSET;
        if (refs == 0) {
            return 0;
        }
        return detaching ? refs : refs - 1;
    }

    @Override
    public String toString() {
        int c = vmRefcnt.get();
        return "RefcountVmaLock[vm_lock_seq=" + vmLockSeq + ", vm_refcnt=" + ((c & VMA_LOCK_OFFSET) != 0
                ? "VMA_LOCK_OFFSET+" + (c & ~VMA_LOCK_OFFSET) : Integer.toString(c)) + "]";
    }

    /** The raw count, for tests. */
    int refcount() {
        return vmRefcnt.get();
    }

    /**
     * {@code __refcount_inc_not_zero_limited_acquire(&vm_refcnt, &old, VMA_REF_LIMIT)}: the reference step
     * of {@link #tryStartRead} alone, package-private so a test can stand in for a reader that took its
     * reference but has not yet re-checked the sequence.
     */
    boolean refcountIncNotZeroLimited() {
        int c = vmRefcnt.get();
        while (c > 0 && c < VMA_REF_LIMIT) {
            int witness = vmRefcnt.compareAndExchangeAcquire(c, c + 1);
            if (witness == c) {
                return true;
            }
            c = witness;
        }
        return false;
    }

    /** {@code vma_refcount_put}. */
    void refcountPut() {
        int newcnt = vmRefcnt.decrementAndGet();
        if (newcnt < 0) {
            // Was 0 (detached): nobody else changes a zero count but markAttached, so undoing is safe.
            vmRefcnt.incrementAndGet();
            throw new IllegalStateException("vma_end_read without a matching vma_start_read: vm_refcnt went "
                    + "below zero (" + this + ")");
        }
        if (newcnt != 0 && isWriterOnly(newcnt)) {
            Thread w = writer;
            if (w != null) {
                Sched.unpark(w);
            }
        }
    }

    /** {@code is_vma_writer_only}: the offset is present and at most the attach reference besides. */
    private static boolean isWriterOnly(int refcnt) {
        return (refcnt & VMA_LOCK_OFFSET) != 0 && refcnt <= VMA_LOCK_OFFSET + 1;
    }

    /**
     * {@code __vma_enter_locked}: add the offset unless the count is 0 (detached: nobody to exclude, and only
     * we could attach it), then wait until only the writer remains. Returns whether the offset was added; if
     * so the caller must {@link #endExcludeReaders()}.
     */
    private boolean startExcludeReaders(boolean forDetach) {
        Thread me = Thread.currentThread();
        if (!WRITER.compareAndSet(this, null, me)) {
            throw new IllegalStateException("two threads write-locking one VMA (" + this + "): "
                    + "vma_start_write and vma_mark_detached need the mmap write lock");
        }
        try {
            int c = vmRefcnt.get();
            for (;;) {
                if (c <= 0) {
                    return false;
                }
                int witness = vmRefcnt.compareAndExchange(c, c + VMA_LOCK_OFFSET);
                if (witness == c) {
                    break;
                }
                c = witness;
            }
            awaitRefcount(forDetach ? VMA_LOCK_OFFSET : VMA_LOCK_OFFSET + 1);
            return true;
        } finally {
            // Safe before the offset goes: at the target no reader holds a reference or can take one.
            writer = null;
        }
    }

    /** {@code __vma_exit_locked}: remove the offset. Returns whether that left the VMA detached (count 0). */
    private boolean endExcludeReaders() {
        return vmRefcnt.addAndGet(-VMA_LOCK_OFFSET) == 0;
    }

    /**
     * {@code rcuwait_wait_event(..., TASK_UNINTERRUPTIBLE)}: wait until the count equals {@code target}.
     * Spins briefly, then parks; the reader that makes the count "writer only" unparks us. An interrupt does
     * not end the wait; it is restored before returning.
     */
    private void awaitRefcount(int target) {
        boolean interrupted = false;
        int spins = WRITER_SPINS;
        while (vmRefcnt.get() != target) {
            if (spins > 0) {
                spins--;
                Sched.spinWait();
            } else {
                Sched.park(this);
                interrupted |= Thread.interrupted();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
