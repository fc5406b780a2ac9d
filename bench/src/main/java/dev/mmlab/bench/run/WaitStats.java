package dev.mmlab.bench.run;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import java.util.List;

/**
 * The lock waits of one run's measured window, from the mm's {@link dev.mmlab.api.stats.LockWaitRecorder}:
 * totals, false conflicts, and "who blocked whom" ({@code byCause}, largest total wait first).
 */
@JsonPropertyOrder({"count", "falseConflicts", "waitNs", "falseConflictWaitNs", "byCause"})
public record WaitStats(long count, long falseConflicts, long waitNs, long falseConflictWaitNs, List<Cause> byCause) {
    /**
     * Waits of one kind: a {@code waiter} operation ({@code role/op}) behind a {@code holder} operation, a true
     * or a false conflict.
     */
    @JsonPropertyOrder({"waiter", "holder", "falseConflict", "count", "waitNs"})
    public record Cause(String waiter, String holder, boolean falseConflict, long count, long waitNs) {}

    public WaitStats {
        byCause = List.copyOf(byCause);
    }
}
