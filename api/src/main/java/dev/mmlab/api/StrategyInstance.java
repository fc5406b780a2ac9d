package dev.mmlab.api;

import java.util.List;

/**
 * A strategy's parts for one address space. Created by {@link LockingStrategy#create}; thread-safe.
 */
public interface StrategyInstance {
    MmLock mmLock();

    FaultHandler faultHandler();

    /** The VMA tree; strategies with lockless readers need one that publishes snapshots. */
    VmaTree vmaTree();

    /** Per-VMA state for a VMA about to be created (a per-VMA lock, a sequence count), or null. */
    default Object newVmaState() {
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
