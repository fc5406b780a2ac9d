package dev.mmlab.api;

import dev.mmlab.api.pgtable.PteTable;
import java.util.function.Supplier;

/**
 * One try of a strategy's fault protocol, as the engine's {@link FaultCore} sees it. The core asks before each
 * step that needs more than a fine-grained lock; a "no" makes the core return {@link FaultResult#retry} with
 * the {@link RetryReason} and no side effect, and the strategy retries with stronger locks. One thread uses an
 * attempt. Extend {@link HoldingFaultAttempt} for an attempt that holds a lock for its whole run.
 */
public interface FaultAttempt {
    /**
     * Whether the attempt holds what a step that needs {@code need} requires (a driver's fault callback, by its
     * declared {@link VmOps#lockNeed}). No side effect; a "no" gives {@link RetryReason#NEEDS_LOCK}.
     */
    boolean holds(LockNeed need);

    /**
     * {@code anon_vma_prepare}: give {@code vma} its first anon identity, computing the one Linux would pick
     * with {@code identity} (which may reuse a neighbour's), and return true; or return false, changing nothing,
     * when this attempt may not (the core then gives {@link RetryReason#NEEDS_ANON}). Called only while
     * {@code vma.anon()} is null; a racing fault may have installed one meanwhile ({@link Vma#prepareAnon}
     * keeps the first).
     */
    boolean prepareAnon(Vma vma, Supplier<AnonIdentity> identity);

    /**
     * The core is about to wait for I/O (a page-cache miss). Release the attempt's locks and return true: the
     * core then waits without them and gives {@link RetryReason#RELEASED_FOR_IO}. Return false to wait holding
     * them.
     */
    boolean releaseForIo();

    /**
     * Called with {@code table}'s PTL held, just before the PTE is committed. False discards the prepared page
     * (no leak) and gives {@link RetryReason#INVALIDATED}. Must not block.
     */
    boolean validate(PteTable table);

    /**
     * Whether this attempt runs as a strategy's fallback to the mm-wide lock after its finer path gave up, even
     * before reaching the core (no VMA found, a write-locked VMA): the engine then counts the fault as a
     * {@code fallback} in its lock use ({@link dev.mmlab.api.stats.LockUse}). A finer try that reached the core
     * and was retried counts as one without this. Default: false. {@link dev.mmlab.api.sync.CoarseMmapLock#faults}
     * says true, so a strategy that falls back to it gets the count without code.
     */
    default boolean isFallback() {
        return false;
    }
}
