package dev.mmlab.api;

/**
 * What the engine's {@link FaultCore} made of one {@link FaultAttempt}: a final {@link FaultOutcome}, or a
 * retry with its {@link RetryReason}. Instances are shared constants: taking one never allocates.
 */
public final class FaultResult {
    private static final FaultResult[] DONE = new FaultResult[FaultOutcome.values().length];
    private static final FaultResult[] RETRIES = new FaultResult[RetryReason.values().length];

    static {
        for (FaultOutcome o : FaultOutcome.values()) {
            DONE[o.ordinal()] = new FaultResult(o, null);
        }
        for (RetryReason r : RetryReason.values()) {
            RETRIES[r.ordinal()] = new FaultResult(null, r);
        }
    }

    private final FaultOutcome outcome;
    private final RetryReason retryReason;

    private FaultResult(FaultOutcome outcome, RetryReason retryReason) {
        this.outcome = outcome;
        this.retryReason = retryReason;
    }

    /** The fault ended with {@code outcome}. */
    public static FaultResult of(FaultOutcome outcome) {
        return DONE[outcome.ordinal()];
    }

    /** The attempt gave up, for {@code reason}; the strategy must run the fault again. */
    public static FaultResult retry(RetryReason reason) {
        return RETRIES[reason.ordinal()];
    }

    public boolean isRetry() {
        return retryReason != null;
    }

    /**
     * The final outcome.
     *
     * @throws IllegalStateException when this is a retry
     */
    public FaultOutcome outcome() {
        if (outcome == null) {
            throw new IllegalStateException("a retry (" + retryReason + ") has no outcome");
        }
        return outcome;
    }

    /** Why the attempt must be repeated; null when the fault ended. */
    public RetryReason retryReason() {
        return retryReason;
    }

    @Override
    public String toString() {
        return outcome != null ? outcome.name() : "RETRY(" + retryReason + ")";
    }
}
