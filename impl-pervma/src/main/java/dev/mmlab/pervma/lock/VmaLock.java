package dev.mmlab.pervma.lock;

import dev.mmlab.api.VmaLockState;

/**
 * One VMA's lock, as Linux 6.4+ has it ({@code CONFIG_PER_VMA_LOCK}).
 *
 * <p>Read side: a page fault calls {@link #tryStartRead} without the mmap lock ({@code lock_vma_under_rcu} /
 * {@code vma_start_read}); it never blocks, and {@code false} means "fall back to the mmap read lock". Write
 * side: a thread holding the mmap write lock calls {@link #startWrite} on every VMA it is about to change or
 * remove ({@code vma_start_write}). That waits for the readers already inside, then marks the VMA with the
 * current {@code mm_lock_seq}. There is no per-VMA write unlock: {@link MmLockSeq#endWriteCycle()} (in
 * {@code mmap_write_unlock} / {@code mmap_write_downgrade}) unlocks every VMA marked in the cycle at once,
 * because a VMA is write-locked exactly when its {@code vm_lock_seq} equals the mm's {@code mm_lock_seq}.
 *
 * <p>Life cycle: a new lock is detached, like a freshly allocated VMA. The writer write-locks the new VMA,
 * calls {@link #markAttached()} and then publishes it in the tree; after taking a VMA out of the tree it calls
 * {@link #markDetached()}. Readers never succeed on a detached VMA.
 *
 * <p>Readers may hold a VMA across any number of write cycles that do not touch it. A writer waits only for
 * readers already inside (or already past their checks) when it starts, never for readers that come later,
 * so it cannot be starved.
 */
public interface VmaLock extends VmaLockState {

    /**
     * {@code vma_start_read}: try to read-lock this VMA without the mmap lock. Never blocks.
     *
     * <p>Returns {@code false} (the caller falls back to the mmap read lock) when the VMA is write-locked in
     * the current cycle ({@code vm_lock_seq == mm_lock_seq}), a writer is waiting for readers to drain or
     * has entered, the VMA is detached, or the trylock fails. A false "locked" answer is allowed; a false
     * "unlocked" one is not. After {@code false}, {@link #isDetached()} tells a miss (the VMA was removed:
     * look it up again, {@code VMA_LOCK_MISS}) from an abort ({@code VMA_LOCK_ABORT}); that answer is
     * advisory. On {@code true} the caller must call {@link #endRead()} exactly once, and must still check
     * that the VMA covers the faulting address ({@code lock_vma_under_rcu} does that after locking).
     *
     * <p>The mm is passed, not a sequence number read earlier: the re-check after taking the reference must
     * read {@code mm_lock_seq} afresh, or a cycle that started after the caller's read and marked this VMA
     * would go unseen.
     *
     * @param mm the sequence of the mm this VMA belongs to
     */
    boolean tryStartRead(MmLockSeq mm);

    /**
     * {@code vma_end_read}: drop a read lock taken by a successful {@link #tryStartRead}. If this was the last
     * reader a writer waits for, wakes it. Never blocks.
     *
     * @throws IllegalStateException if no read lock is held (an unbalanced call), where the implementation can
     *     tell: the reference-count form sees it only on a detached VMA; on an attached one an extra call
     *     drops the attach reference, as an extra {@code vma_end_read} would in the kernel
     */
    void endRead();

    /**
     * {@code vma_start_write}: write-lock this VMA for the rest of the current write cycle. Caller holds the
     * mmap write lock. Returns at once if the VMA is already marked in this cycle (idempotent); otherwise
     * waits for the readers inside to leave, refusing new ones meanwhile, then sets
     * {@code vm_lock_seq = mmLockSeq}. May block, uninterruptibly ({@code TASK_UNINTERRUPTIBLE}): an interrupt
     * does not end the wait and stays pending. On a detached VMA it only sets the sequence.
     *
     * @param mmLockSeq the mm's {@link MmLockSeq#read() current value}, read under the mmap write lock (it
     *     cannot change while that lock is held)
     * @throws IllegalStateException if another thread is write-locking this VMA at the same time (the caller
     *     does not hold the mmap write lock), where the implementation can tell
     */
    void startWrite(long mmLockSeq);

    /**
     * {@code __is_vma_write_locked}: whether this VMA is marked in the cycle {@code mmLockSeq}. Meaningful
     * under the mmap write lock (the answer is then stable); elsewhere only a hint. Never blocks.
     */
    boolean isWriteLocked(long mmLockSeq);

    /**
     * {@code vma_assert_write_locked}: fails unless this VMA is marked in the cycle {@code mmLockSeq}. For
     * the caller that holds the mmap write lock and is about to change the VMA. Never blocks.
     *
     * @throws IllegalStateException if the VMA is not write-locked in that cycle
     */
    default void assertWriteLocked(long mmLockSeq) {
        if (!isWriteLocked(mmLockSeq)) {
            throw new IllegalStateException("VMA is not write-locked in mmap write cycle " + mmLockSeq + " ("
                    + this + "): call vma_start_write (VmaLock.startWrite) before changing or removing a VMA "
                    + "(the bug behind CVE-2023-4611)");
        }
    }

    /**
     * {@code vma_mark_detached}: the VMA has been removed from the tree. Caller holds the mmap write lock and
     * has write-locked this VMA ({@link #startWrite}). From now on {@link #tryStartRead} fails. Whether it
     * waits for readers that raced in depends on the form: the reference-count form waits for them, as the
     * kernel does since 6.15; the rwsem form only sets a flag that later readers check.
     *
     * @throws IllegalStateException if the VMA is already detached
     */
    void markDetached();

    /**
     * {@code vma_mark_attached}: the VMA is about to be published in the tree. Caller holds the mmap write
     * lock and has write-locked this VMA, so readers that find it before the cycle ends still fail. Never
     * blocks. Everything the caller wrote to the VMA before this call is visible to a reader that then
     * read-locks it.
     *
     * @throws IllegalStateException if the VMA is already attached
     */
    void markAttached();

    /** Whether the VMA is detached (new, or removed from the tree). Any thread; never blocks. */
    boolean isDetached();

    /**
     * How many read locks are held now. Exact at quiescent points (no writer inside {@link #startWrite} or
     * {@link #markDetached}), where a leak checker expects 0; a snapshot otherwise. Never blocks.
     */
    int readers();
}
