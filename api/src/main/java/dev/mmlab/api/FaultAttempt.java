package dev.mmlab.api;

import dev.mmlab.api.pgtable.PteTable;

/**
 * One try of a strategy's fault protocol, as the engine's {@link FaultCore} sees it. The core asks before
 * each step that needs more than the attempt may hold; a "no" makes the core return
 * {@link FaultOutcome#RETRY} with no side effect, and the strategy, which remembers why it said no, retries
 * with stronger locks.
 */
public interface FaultAttempt {
    /** The intent this attempt runs under (its footprint is the faulting page). */
    LockIntent intent();

    /** Whether the attempt holds at least {@code need} (driver callbacks, stack expansion). */
    boolean holds(LockNeed need);

    /** Whether this attempt may install the VMA's first anon identity ({@code anon_vma_prepare}). */
    boolean mayPrepareAnon();

    /**
     * The core is about to wait for I/O (a page-cache miss). Return true after releasing the attempt's locks:
     * the core then waits for the I/O without them and returns RETRY. Return false to wait holding them.
     */
    boolean dropForIo();

    /**
     * Called with {@code table}'s PTL held, just before the PTE is committed. False discards the prepared
     * page (no leak) and makes the core return RETRY. Must not block.
     */
    boolean validate(PteTable table);
}
