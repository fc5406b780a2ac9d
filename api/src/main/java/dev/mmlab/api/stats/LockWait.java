package dev.mmlab.api.stats;

import dev.mmlab.api.LockIntent;
import java.util.List;

/**
 * One wait on an mm lock: who waited ({@code waiter}, with its true footprint), who held or was queued ahead
 * ({@code blockers}, as they were when the wait began), for how long, and whether it was a false conflict
 * (no blocker's footprint overlaps the waiter's).
 */
public record LockWait(LockIntent waiter, List<LockIntent> blockers, String lockName, long waitNanos,
        boolean falseConflict) {
    public LockWait {
        blockers = List.copyOf(blockers);
    }

    /** Classifies a wait: false when blockers are known and none overlaps the waiter's footprint. */
    public static boolean isFalseConflict(LockIntent waiter, List<LockIntent> blockers) {
        if (blockers.isEmpty()) {
            return false;
        }
        for (LockIntent b : blockers) {
            if (b.footprintOverlaps(waiter)) {
                return false;
            }
        }
        return true;
    }
}
