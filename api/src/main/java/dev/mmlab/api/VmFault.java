package dev.mmlab.api;

import dev.mmlab.api.mem.Page;

/**
 * What a driver's fault callback produced: a page to map (with one reference handed to the caller) or an
 * outcome other than {@link FaultOutcome#MAPPED}.
 */
public record VmFault(Page page, FaultOutcome outcome) {
    public static VmFault mapped(Page page) {
        return new VmFault(page, FaultOutcome.MAPPED);
    }

    /** {@code page} mapped, or {@link FaultOutcome#OOM} when its allocation returned null. */
    public static VmFault mappedOrOom(Page page) {
        return page == null ? failed(FaultOutcome.OOM) : mapped(page);
    }

    public static VmFault failed(FaultOutcome outcome) {
        if (outcome == FaultOutcome.MAPPED) {
            throw new IllegalArgumentException("a failed fault needs an outcome other than MAPPED");
        }
        return new VmFault(null, outcome);
    }
}
