package dev.mmlab.api;

import java.util.List;

/**
 * The VMAs of one address space, sorted and disjoint. Lookups may run concurrently with each other and with
 * one {@link #replace}; a reader sees the tree before or after a replace, never a mix.
 */
public interface VmaTree {
    /** The VMA containing {@code addr}, or null. Never blocks. */
    Vma find(long addr);

    /** {@code vma_find}/{@code find_vma}: the first VMA ending after {@code addr}, or null. Never blocks. */
    Vma findNext(long addr);

    /** The last VMA starting before {@code addr}, or null. Never blocks. */
    Vma findPrev(long addr);

    /** VMAs overlapping {@code [start, end)}, in address order. Never blocks. */
    List<Vma> overlapping(long start, long end);

    /** Every VMA in address order (a consistent snapshot). Never blocks. */
    List<Vma> all();

    int size();

    /**
     * Atomically remove {@code removed} (by identity) and insert {@code added}, under {@code guard}, which the
     * caller holds for writing over the change (a strategy's tree may look at what it holds). Throws
     * {@link IllegalStateException} when a removed VMA is absent or the result would overlap: that is an
     * engine or strategy bug, and nothing changes.
     */
    void replace(MmLockGuard guard, List<Vma> removed, List<Vma> added);
}
