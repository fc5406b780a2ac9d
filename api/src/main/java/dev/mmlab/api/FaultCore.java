package dev.mmlab.api;

/**
 * The engine's fault work, handed to a strategy's {@link FaultHandler}: everything after the VMA was found.
 * Checks access (SEGV, ACCESS), gets the page (zero page, anonymous page, page-cache read, COW copy, driver
 * fault), takes the PTL, asks the attempt to validate, commits the PTE.
 */
public interface FaultCore {
    /** The tree the strategy looks VMAs up in. */
    VmaTree tree();

    /**
     * Handle a fault at {@code addr} in {@code vma} (the VMA the attempt found covering {@code addr}, or null:
     * SEGV). May sleep for allocation or I/O. Returns a retry, with its reason, when the attempt declined a
     * step. Stack expansion is not done here: the engine expands a growsdown VMA as a write-locked operation of
     * its own, after the strategy's handler returned SEGV.
     */
    FaultResult fault(FaultAttempt attempt, Vma vma, long addr, Access access);
}
