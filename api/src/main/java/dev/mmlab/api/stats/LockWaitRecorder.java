package dev.mmlab.api.stats;

import dev.mmlab.api.LockIntent;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Records every wait on any lock of one address space. A strategy calls {@link #begin} when a thread is about
 * to block (with the blockers it can see) and {@link Pending#end} when it got the lock. Only waits cost
 * anything: an uncontended acquisition records nothing. Thread-safe.
 *
 * <p>Aggregates: totals, false conflicts, and totals grouped by cause (waiter operation, blocker operation,
 * false or true conflict); the blocker operation of a wait is that of its first blocker whose footprint
 * overlaps the waiter's, else of its first blocker. The last {@value #RECENT} waits are kept for tests.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Totals are {@link LongAdder}s. The per-cause totals are two-element arrays
 *       in a concurrent map, each updated and read under its own monitor. The recent-wait ring is guarded by
 *       its own monitor. Listeners are a copy-on-write list; the task labeller is one volatile reference.</li>
 *   <li><b>Lock order.</b> none held across calls: {@link #record} takes one cause array's monitor, releases
 *       it, then the ring's, and calls the listeners holding neither. Both monitors are leaves. Strategies may
 *       call {@link #begin} (which takes nothing) under their own locks, and call {@link Pending#end} once they
 *       got the lock they waited for (or gave up), so a listener runs on the waiting thread, which may hold that
 *       lock and others.</li>
 *   <li><b>What a reader may see mid-update.</b> The totals, the causes and the ring are updated one after
 *       another, so a reader racing {@link #record} may see a wait counted in one and not yet in another;
 *       exact at a quiescent point. A {@link #reset} racing a record may keep part of it.</li>
 * </ul>
 */
public final class LockWaitRecorder {
    static final int RECENT = 1024;

    private final LongAdder count = new LongAdder();
    private final LongAdder falseCount = new LongAdder();
    private final LongAdder waitNanos = new LongAdder();
    private final LongAdder falseWaitNanos = new LongAdder();
    private final ConcurrentHashMap<Cause, long[]> byCause = new ConcurrentHashMap<>();
    private final Deque<LockWait> recent = new ArrayDeque<>();
    private final List<Consumer<LockWait>> listeners = new CopyOnWriteArrayList<>();
    private volatile Function<Thread, String> taskLabels = task -> null;

    /** A wait that has begun. */
    public final class Pending {
        private final LockIntent waiter;
        private final List<LockIntent> blockers;
        private final String lockName;
        private final long startNanos = Sched.nanoTime();

        private Pending(LockIntent waiter, List<LockIntent> blockers, String lockName) {
            this.waiter = waiter;
            this.blockers = List.copyOf(blockers);
            this.lockName = lockName;
        }

        /** The waiter got the lock (or gave up): record the wait. */
        public void end() {
            record(new LockWait(waiter, blockers, lockName, Sched.nanoTime() - startNanos,
                    LockWait.isFalseConflict(waiter, blockers)));
        }
    }

    /** Grouping key of {@link #byCause()}. */
    public record Cause(String waiterOp, String blockerOp, boolean falseConflict) {}

    /** Totals of one cause. */
    public record CauseTotal(long count, long waitNanos) {}

    /** Start timing a wait of {@code waiter} behind {@code blockers} on the lock called {@code lockName}. */
    public Pending begin(LockIntent waiter, List<LockIntent> blockers, String lockName) {
        return new Pending(waiter, blockers, lockName);
    }

    /** Record a finished wait. */
    public void record(LockWait wait) {
        count.increment();
        waitNanos.add(wait.waitNanos());
        if (wait.falseConflict()) {
            falseCount.increment();
            falseWaitNanos.add(wait.waitNanos());
        }
        Cause cause = new Cause(label(wait.waiter()), blockerLabel(wait), wait.falseConflict());
        long[] totals = byCause.computeIfAbsent(cause, k -> new long[2]);
        synchronized (totals) {
            totals[0]++;
            totals[1] += wait.waitNanos();
        }
        synchronized (recent) {
            if (recent.size() == RECENT) {
                recent.removeFirst();
            }
            recent.addLast(wait);
        }
        for (Consumer<LockWait> l : listeners) {
            l.accept(wait);
        }
    }

    /**
     * Group later waits by what {@code labels} says of each intent's task (a benchmark's role, such as
     * "faulters"): a wait is then labelled {@code ROLE/OP}, or {@code OP} where it answers null.
     */
    public void labelTasks(Function<Thread, String> labels) {
        taskLabels = labels;
    }

    private String label(LockIntent intent) {
        String role = taskLabels.apply(intent.task());
        return role == null ? intent.op().label() : role + "/" + intent.op().label();
    }

    private String blockerLabel(LockWait wait) {
        if (wait.blockers().isEmpty()) {
            return "unknown";
        }
        for (LockIntent b : wait.blockers()) {
            if (b.footprintOverlaps(wait.waiter())) {
                return label(b);
            }
        }
        return label(wait.blockers().get(0));
    }

    /** Also deliver every future wait to {@code listener} (on the waiting thread). */
    public void addListener(Consumer<LockWait> listener) {
        listeners.add(listener);
    }

    public long count() {
        return count.sum();
    }

    public long falseConflicts() {
        return falseCount.sum();
    }

    public long waitNanos() {
        return waitNanos.sum();
    }

    public long falseConflictWaitNanos() {
        return falseWaitNanos.sum();
    }

    /** Totals per cause, sorted by waiter, blocker, kind. */
    public Map<Cause, CauseTotal> byCause() {
        Map<Cause, CauseTotal> out = new TreeMap<>((a, b) -> {
            int c = a.waiterOp().compareTo(b.waiterOp());
            if (c == 0) {
                c = a.blockerOp().compareTo(b.blockerOp());
            }
            return c != 0 ? c : Boolean.compare(a.falseConflict(), b.falseConflict());
        });
        byCause.forEach((k, v) -> {
            synchronized (v) {
                out.put(k, new CauseTotal(v[0], v[1]));
            }
        });
        return out;
    }

    /** The most recent waits, oldest first. */
    public List<LockWait> recent() {
        synchronized (recent) {
            return new ArrayList<>(recent);
        }
    }

    public void reset() {
        count.reset();
        falseCount.reset();
        waitNanos.reset();
        falseWaitNanos.reset();
        byCause.clear();
        synchronized (recent) {
            recent.clear();
        }
    }
}
