package dev.mmlab.api;

/** Why the engine's {@link FaultCore} gave up one {@link FaultAttempt}, so that the strategy knows how to retry. */
public enum RetryReason {
    /** A driver callback needs more than the attempt holds: {@link FaultAttempt#holds} said no. */
    NEEDS_LOCK,
    /** The VMA needs its first anon identity and the attempt may not install it: {@link FaultAttempt#prepareAnon} said no. */
    NEEDS_ANON,
    /** The attempt released its locks to wait for I/O ({@link FaultAttempt#releaseForIo}); the page is cached now. */
    RELEASED_FOR_IO,
    /** The attempt's validation at commit failed ({@link FaultAttempt#validate}); nothing was installed. */
    INVALIDATED
}
