package dev.mmlab.api;

import java.util.List;

/**
 * A strategy's parts for one address space. Created by {@link LockingStrategy#create}; thread-safe. A strategy
 * with nothing beyond a lock, a fault handler and a tree returns {@link #of}; one with per-VMA state or
 * per-VMA readers implements this interface.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The parts own the protocol: the {@link MmLock} protects the VMA tree and the
 *       page tables for syscalls, the {@link FaultHandler} for faults, and per-VMA state (if any) is the
 *       strategy's {@link VmaLockState}. The instance itself only hands them out: {@link #of}'s holds three
 *       final references and takes no lock, so it is safe to share once constructed.</li>
 *   <li><b>Lock order.</b> none here: each strategy states its own (the mmap lock before a VMA lock in
 *       {@code pervma}, a granted range before the VMA lock in {@code rangelock}). {@link #lockVmaForRead}
 *       never blocks, so a /proc reader may try it holding nothing and fall back to the mmap lock.</li>
 * </ul>
 */
public interface StrategyInstance {
    MmLock mmLock();

    FaultHandler faultHandler();

    /** The VMA tree; strategies with lockless readers need one that publishes snapshots. */
    VmaTree vmaTree();

    /** The parts of a strategy that keeps no per-VMA state. */
    static StrategyInstance of(MmLock mmLock, FaultHandler faultHandler, VmaTree vmaTree) {
        return new Parts(mmLock, faultHandler, vmaTree);
    }

    /** What {@link #of} returns. */
    record Parts(MmLock mmLock, FaultHandler faultHandler, VmaTree vmaTree) implements StrategyInstance {}

    /** Per-VMA state for a VMA about to be created (a per-VMA lock, a sequence count), or null. */
    default VmaLockState newVmaState() {
        return null;
    }

    /**
     * For monitors that read VMA by VMA ({@code /proc/pid/maps} under per-VMA locks, Linux 6.17): read-lock the
     * first VMA ending after {@code addr} without the mmap lock and return it, or return null when this strategy
     * has no such lock or the attempt failed (a writer holds the VMA); the engine then takes the mmap lock for
     * that chunk. Never blocks. Default: null.
     */
    default Vma lockVmaForRead(long addr, LockIntent intent) {
        return null;
    }

    /** Release a VMA returned by {@link #lockVmaForRead} or {@link #lockVmaCovering}. */
    default void unlockVmaForRead(Vma vma) {}

    /**
     * For a syscall Linux may run under one VMA's read lock instead of the mmap lock (6.18: madvise
     * {@code MADV_DONTNEED} and {@code MADV_FREE}, {@code madvise_lock} &rarr; {@code try_vma_read_lock} &rarr;
     * {@code lock_vma_under_rcu}): read-lock, without the mmap lock, the one VMA that covers all of
     * {@code intent}'s lock range, and return it; the engine then does the whole operation under it and releases it
     * with {@link #unlockVmaForRead}. Return null when this strategy does not run {@code intent.op()} so, when the
     * range is not inside one VMA, or when the VMA cannot be locked now (a writer holds it): the engine then takes
     * the {@link MmLock} as it always did. The operations asked about today: {@link OpKind#MADVISE}. Caller holds
     * no lock of this mm. Never blocks. Default: null (the mmap lock, as before 6.18).
     */
    default Vma lockVmaCovering(LockIntent intent) {
        return null;
    }

    /**
     * Problems with per-VMA lock state at a quiescent point (a reader count left behind, a VMA still
     * write-marked), as sentences; empty when all is well.
     */
    default List<String> checkQuiescent(List<Vma> vmas) {
        return List.of();
    }
}
