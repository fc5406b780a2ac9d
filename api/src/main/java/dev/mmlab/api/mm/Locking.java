package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.hex;

import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.Vma;
import java.util.function.Function;

/**
 * How the engine takes the strategy's lock for a syscall ({@code include/linux/mmap_lock.h} as the engine
 * sees it): lock for an intent, plan against the VMAs, and if the plan touches more than the guard covers,
 * release and lock wider; nothing is changed before coverage is checked.
 */
final class Locking {
    private Locking() {}

    /** Thrown inside a locked body when its plan needs more than the guard covers; never escapes {@link #locked}. */
    static final class NeedsWiderLock extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final long start;
        final long end;
        final boolean coarse;
        final boolean write;

        NeedsWiderLock(long start, long end, boolean coarse, boolean write) {
            super(null, null, false, false);
            this.start = start;
            this.end = end;
            this.coarse = coarse;
            this.write = write;
        }

        /** The plan needs the whole address space (a gap search, a driver that needs the coarse lock). */
        static NeedsWiderLock coarse() {
            return new NeedsWiderLock(0, 0, true, false);
        }
    }

    /**
     * Run {@code body} under a guard for {@code intent}, widening and retrying when the body finds its plan
     * needs more. The body must not change anything before it has checked coverage. Caller holds no lock of
     * this mm. May block.
     */
    static <T> T locked(MmStruct mm, LockIntent intent, Function<MmLockGuard, T> body) {
        if (intent.op() == OpKind.FAULT) {
            // Stack expansion inside a fault: the fault's own tally counts it (Memory.fault).
            return locked(mm, intent, null, body);
        }
        LockTally tally = LockTally.operation();
        try {
            return locked(mm, intent, tally, body);
        } finally {
            tally.record(mm.lockUse, intent.op());
        }
    }

    /**
     * {@link #locked(MmStruct, LockIntent, Function)} for an operation that tallies its own lock use across
     * several acquisitions (a /proc walk, a madvise that tried a VMA lock first): each acquisition here is a
     * try of {@code tally}, which the caller records. {@code tally} may be null (not counted).
     */
    static <T> T locked(MmStruct mm, LockIntent intent, LockTally tally, Function<MmLockGuard, T> body) {
        LockIntent current = intent;
        for (int attempt = 0;; attempt++) {
            MmLockGuard guard = mm.lock.lock(current);
            if (tally != null) {
                tally.tried(guard.coarseHold(), false);
            }
            try {
                return body.apply(guard);
            } catch (NeedsWiderLock wider) {
                if (wider.write && !current.isWrite()) {
                    mm.counters.increment("engine.relock");
                    current = current.asCoarse().withMode(LockIntent.Mode.WRITE);
                    continue;
                }
                if (current.isCoarse()) {
                    throw new IllegalStateException(mm.strategy.name() + ": a coarse guard does not cover "
                            + hex(wider.start) + "-" + hex(wider.end) + " for " + current);
                }
                mm.counters.increment("engine.relock");
                current = wider.coarse || attempt >= 2 ? current.asCoarse()
                        : current.withRange(Math.min(current.start(), wider.start), Math.max(current.end(), wider.end));
            } finally {
                guard.close();
            }
        }
    }

    static void requireCovers(MmLockGuard guard, long start, long end, boolean write) {
        if (!guard.covers(start, end, write)) {
            throw new NeedsWiderLock(start, end, false, false);
        }
    }

    static void requireCoarse(MmLockGuard guard, LockNeed need) {
        if (!guard.coarseHold().satisfies(need)) {
            throw new NeedsWiderLock(0, 0, true, need == LockNeed.COARSE_WRITE);
        }
    }

    /**
     * Coverage of everything a change inside {@code [lo, hi)} may touch, checked before the first change: the
     * VMAs straddling or adjacent to its ends (merges and splits reach them).
     */
    static void requireCoversWithNeighbours(MmStruct mm, MmLockGuard guard, long lo, long hi) {
        requireCovers(guard, withNeighboursStart(mm, lo), withNeighboursEnd(mm, hi), true);
    }

    /** The lock range a change of {@code [start, end)} is expected to need: it plus adjacent VMAs it may merge with. */
    static LockIntent intentWithNeighbours(MmStruct mm, OpKind op, long start, long end) {
        return LockIntent.of(op, LockIntent.Mode.WRITE, start, end)
                .withRange(withNeighboursStart(mm, start), withNeighboursEnd(mm, end));
    }

    private static long withNeighboursStart(MmStruct mm, long start) {
        Vma prev = mm.tree.findPrev(start);
        return prev != null && prev.end() >= start ? Math.min(start, prev.start()) : start;
    }

    private static long withNeighboursEnd(MmStruct mm, long end) {
        Vma next = mm.tree.findNext(end);
        return next != null && next.start() <= end ? Math.max(end, next.end()) : end;
    }

    /** The strongest lock a driver callback needs for VMAs of {@code [start, end)} being split, opened or closed. */
    static LockNeed driverNeed(MmStruct mm, long start, long end) {
        LockNeed need = LockNeed.FINE;
        for (Vma v : mm.tree.overlapping(start, end)) {
            need = max(need, max(v.lockNeed(VmOpsCallback.OPEN), v.lockNeed(VmOpsCallback.CLOSE)));
        }
        return need;
    }

    static LockNeed max(LockNeed a, LockNeed b) {
        return a.atLeast(b) ? a : b;
    }
}
