package dev.mmlab.api;

/**
 * A strategy's page-fault protocol: which locks a fault takes, how it finds its VMA, how it validates, how it
 * retries. The engine's {@link FaultCore} does the work it is handed. Thread-safe: many threads fault at once.
 */
public interface FaultHandler {
    /**
     * A user access at {@code addr} faulted. Caller holds no lock of this mm. May block (lock waits, I/O,
     * allocation). Returns the final outcome.
     */
    FaultOutcome handleFault(FaultCore core, long addr, Access access);

    /**
     * A fault taken for a caller that already holds {@code guard} covering {@code addr} (get_user_pages, or
     * populate when the lock is not dropped). May block on I/O with the guard held. The default runs one
     * {@link HoldingFaultAttempt}; a strategy whose guard does not keep the VMA object stable overrides it.
     *
     * @throws IllegalStateException when the fault needs more than the guard holds: the caller must check
     *     driver lock needs first
     */
    default FaultOutcome handleFaultHolding(FaultCore core, MmLockGuard guard, long addr, Access access) {
        FaultResult result = core.fault(new HoldingFaultAttempt(guard), core.tree().find(addr), addr, access);
        if (result.isRetry()) {
            throw new IllegalStateException("a fault under " + guard.intent() + " needs more than the caller holds at "
                    + Linux.hex(addr) + " (" + result + "); the caller must check driver lock needs first");
        }
        return result.outcome();
    }
}
