package dev.mmlab.speculative;

import dev.mmlab.api.VmaLockState;
import dev.mmlab.api.sync.Sched;
import java.lang.invoke.MethodHandles;
import java.util.concurrent.atomic.AtomicInteger;
import java.lang.invoke.VarHandle;

/**
 * A sequence count ({@code seqcount_t}) guarding what a speculative fault relies on: one per VMA in
 * {@code validation=vma} mode (Dufour's {@code vm_sequence}), one per mm in {@code validation=mm} mode
 * (Lespinasse 2021's {@code mmap_seq}).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The count guards what a speculative fault relies on (one VMA, or the whole
 *       mm). It is even when nothing guarded is changing and odd while a writer (a holder of the mmap write
 *       lock) is changing it; every completed change leaves it two higher. Writers are serialized by the mmap
 *       write lock, so only one thread ever writes a given count at a time. A count that is never ended stays
 *       odd forever: that is how a retired VMA tells late readers that it changed.</li>
 *   <li><b>Lock order.</b> none: a sequence count is not a lock, and nobody waits on it. Writers begin and end
 *       it under the mmap write lock; readers read it holding nothing and validate it under the PTL, where
 *       {@link #validate} never blocks.</li>
 *   <li><b>What a reader may see mid-update.</b> An odd value (a writer is active: give up now), or any value
 *       of a change in progress; a reader that saw value {@code s} and still sees {@code s} knows no change
 *       started or ended in between, so everything it read meanwhile was stable.</li>
 *   <li><b>Memory semantics</b>, following the kernel's {@code write_seqcount_begin}/{@code read_seqcount_retry}:
 *       <ul>
 *         <li>{@link #writeBegin}: a volatile read-modify-write (a full fence), so the odd value is visible
 *             before any later store or load of the writer (publishing the tree, looking up page tables to zap
 *             them).</li>
 *         <li>{@link #writeEnd}: a release store, so everything the writer did is visible to whoever reads the
 *             even value with acquire.</li>
 *         <li>{@link #readBegin}: an acquire load; the reader acts on what it read only after
 *             {@link #validate}.</li>
 *         <li>{@link #validate}: an acquire fence then a volatile load (as {@code StampedLock.validate}). The
 *             volatile load matters: a fault that allocates a PTE table (a CAS) and a writer that looks the
 *             table up after making the count odd form a Dekker pair; with both sides sequentially consistent,
 *             either the writer sees the table (and its zap under the PTL removes the fault's PTE) or the fault
 *             sees the odd count.</li>
 *       </ul></li>
 * </ul>
 */
final class SeqCount implements VmaLockState {
    private static final VarHandle SEQ;

    static {
        try {
            SEQ = MethodHandles.lookup().findVarHandle(SeqCount.class, "seq", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Accessed only through {@link #SEQ} with the modes named at each use. */
    private volatile long seq;

    /**
     * A reference count on the guarded VMA, taken and dropped by every speculative fault when the strategy's
     * {@code vmaRefcount} option is on: one shared atomic per VMA, on a line of its own.
     */
    final AtomicInteger users = new AtomicInteger();

    /** The count now, with acquire semantics. Odd means a writer is active (or the VMA was retired). */
    long readBegin() {
        Sched.access(this, false);
        return (long) SEQ.getAcquire(this);
    }

    /**
     * Whether the count still equals {@code start}, which the caller read with {@link #readBegin} and found
     * even. Never blocks; safe under the PTL.
     */
    boolean validate(long start) {
        Sched.access(this, false);
        VarHandle.acquireFence();
        return (long) SEQ.getVolatile(this) == start;
    }

    /**
     * Make the count odd: a change begins. Caller holds the mmap write lock and the count is even. Never
     * blocks.
     */
    void writeBegin() {
        Sched.access(this, true);
        long before = (long) SEQ.getAndAdd(this, 1L);
        if ((before & 1) != 0) {
            SEQ.getAndAdd(this, -1L);
            throw new IllegalStateException("seqcount write begun twice (count " + before + ")");
        }
    }

    /** Make the count even again: the change is complete. Caller holds the mmap write lock and began it. */
    void writeEnd() {
        Sched.access(this, true);
        long now = (long) SEQ.getOpaque(this);
        if ((now & 1) == 0) {
            throw new IllegalStateException("seqcount write ended without a begin (count " + now + ")");
        }
        SEQ.setRelease(this, now + 1);
    }

    /** Whether a write is in progress (or the owner was retired). A racy snapshot, for checks and tests. */
    boolean isOdd() {
        return ((long) SEQ.getOpaque(this) & 1) != 0;
    }

    /** The raw value, for messages. */
    long value() {
        return (long) SEQ.getOpaque(this);
    }

    @Override
    public String toString() {
        return "seq " + value();
    }
}
