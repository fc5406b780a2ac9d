package dev.mmlab.api.mm;

import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.FaultAttempt;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.stats.LockUse;

/**
 * One operation's use of the mm-wide lock while it runs: each try's hold of the whole address space, whether it
 * fell back to the mm-wide lock after a try without it, and its further tries; recorded into the address space's
 * {@link LockUse} when the operation ends. Belongs to the thread running the operation; takes no lock.
 */
final class LockTally {
    /** A walk (a /proc reader) locks once per chunk by design: its further acquisitions are not retries. */
    private final boolean walk;
    private CoarseHold strongest = CoarseHold.NONE;
    private int tries;
    private boolean triedWithout;
    private boolean fallback;
    private int retries;

    private LockTally(boolean walk) {
        this.walk = walk;
    }

    /** For an operation whose tries after the first are retries (a syscall, a fault). */
    static LockTally operation() {
        return new LockTally(false);
    }

    /** For a walk that locks chunk by chunk. */
    static LockTally walk() {
        return new LockTally(true);
    }

    /**
     * A try of the operation holding {@code hold} of the whole address space. {@code markedFallback}: the
     * strategy says this try is its fallback ({@link FaultAttempt#isFallback}), even if no earlier try was seen.
     */
    void tried(CoarseHold hold, boolean markedFallback) {
        boolean fallsBack = hold != CoarseHold.NONE && !fallback && (triedWithout || markedFallback);
        if (tries > 0 && !fallsBack && !walk) {
            retries++;
        }
        tries++;
        if (fallsBack) {
            fallback = true;
        }
        if (hold == CoarseHold.NONE) {
            triedWithout = true;
        }
        if (hold.compareTo(strongest) > 0) {
            strongest = hold;
        }
    }

    /** A fault attempt about to run in the core: what it holds, as it answers {@link FaultAttempt#holds}. */
    void tried(FaultAttempt attempt) {
        CoarseHold hold = attempt.holds(LockNeed.COARSE_WRITE) ? CoarseHold.WRITE
                : attempt.holds(LockNeed.COARSE_READ) ? CoarseHold.READ : CoarseHold.NONE;
        tried(hold, attempt.isFallback());
    }

    /** The operation {@code op} ended (successfully or not). */
    void record(LockUse use, OpKind op) {
        use.record(op, strongest, fallback, retries);
    }
}
