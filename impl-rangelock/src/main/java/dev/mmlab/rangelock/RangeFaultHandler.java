package dev.mmlab.rangelock;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultAttempt;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.mm.VmaMerge;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.stats.Counters;
import dev.mmlab.rangelock.lock.RangeLock.Handle;
import dev.mmlab.rangelock.lock.RangeLock.Ticket;

/**
 * The range-locked page fault (Lespinasse's design).
 *
 * <pre>
 * Design notes
 *
 * One attempt: under the VMA lock, find the VMA at the address and choose the range (private anonymous
 * memory: the anonFaultGranule-aligned block around the address, clipped to the VMA; file and driver
 * memory: the VMA), queue a read request for it, drop the VMA lock, wait. Under the range, find the VMA
 * again: the mapping of the page cannot change any more, but it may have changed while we waited. If its
 * flags, file, driver or pgoff at the page differ from what chose the range (or a file or driver VMA grew
 * beyond the range), release and start over; after MAX_CHANGED such tries, take the coarse read lock.
 * Then hand the current VMA object to the engine's fault core.
 *
 * What the attempt answers the core:
 *   - holds(FINE) always; holds(COARSE_*) only when the attempt took the full range in that mode. A
 *     driver whose fault needs the coarse lock gets it from the start (its declaration is read before
 *     queueing); a "no" anyway (the VMA changed to such a driver) retries coarse.
 *   - mayPrepareAnon: yes, after installing the identity itself under the VMA lock, provided the VMA is
 *     still in the tree (else RETRY: it was replaced by a writer elsewhere in it, look again). Together
 *     with RangeVmaTree's propagation this keeps the identity from being lost to a concurrent split.
 *   - dropForIo: yes, once per fault (Linux's VM_FAULT_RETRY then FAULT_FLAG_TRIED): the range is released
 *     while the page is read, so a writer on the file VMA does not wait for the disk; the retry finds the
 *     page cached. A second miss waits holding the range, so a fault always makes progress.
 *   - validate: always true; the read range keeps the mapping of the page stable.
 * </pre>
 */
final class RangeFaultHandler implements FaultHandler {
    /** Tries whose VMA changed under the wait before the fault takes the coarse lock. */
    static final int MAX_CHANGED = 3;

    private final RangeLockInstance space;
    private final RangeVmaTree tree;
    private final Counters counters;

    RangeFaultHandler(RangeLockInstance space) {
        this.space = space;
        this.tree = space.tree();
        this.counters = space.counters();
    }

    /** {@inheritDoc} Caller holds no range of this mm. Never interrupted: waits ignore interrupts. */
    @Override
    public FaultOutcome handleFault(FaultCore core, long addr, Access access) {
        long page = addr & Linux.PAGE_MASK;
        LockIntent base = LockIntent.of(OpKind.FAULT, LockIntent.Mode.READ, page, page + Linux.PAGE_SIZE);
        LockNeed level = LockNeed.FINE;
        String coarseReason = null;
        boolean mayDropForIo = true;
        int changed = 0;
        while (true) {
            Vma found;
            LockIntent intent;
            Ticket ticket;
            space.vmaLock();
            try {
                found = tree.find(page);
                if (found == null && level == LockNeed.FINE) {
                    // The lookup under the VMA lock is the answer: nothing maps the page (the engine may
                    // then expand a stack under a write range of its own).
                    return FaultOutcome.SEGV;
                }
                if (level == LockNeed.FINE) {
                    LockNeed need = found.lockNeed(VmOpsCallback.FAULT);
                    if (need != LockNeed.FINE) {
                        level = need;
                        coarseReason = "fault_driver";
                    }
                }
                intent = intentFor(base, found, page, level);
                ticket = space.enqueue(intent);
            } finally {
                space.vmaUnlock();
            }
            Handle handle = awaitUninterruptibly(ticket, intent);
            Attempt attempt = new Attempt(intent, handle, level, mayDropForIo);
            FaultOutcome outcome = null;
            try {
                Vma current = tree.find(page);
                if (level != LockNeed.FINE || stillValid(found, current, intent, page)) {
                    counters.increment(level == LockNeed.FINE ? "rangelock.fine" : "rangelock.coarse." + coarseReason);
                    attempt.vma = current;
                    outcome = core.fault(attempt, current, page, access);
                }
            } finally {
                attempt.release();
            }
            if (outcome != null && outcome != FaultOutcome.RETRY) {
                return outcome;
            }
            counters.increment("rangelock.retry");
            if (outcome == null) {
                counters.increment("rangelock.retry.vma_changed");
                if (++changed >= MAX_CHANGED) {
                    level = LockNeed.COARSE_READ;
                    coarseReason = "fault_vma_changed";
                }
            } else if (attempt.droppedForIo) {
                counters.increment("rangelock.retry.io");
                mayDropForIo = false;
            } else if (attempt.anonDenied) {
                counters.increment("rangelock.retry.anon");
            } else if (attempt.denied != null && !level.atLeast(attempt.denied)) {
                counters.increment("rangelock.retry.driver");
                level = attempt.denied;
                coarseReason = "fault_driver";
            } else if (level != LockNeed.COARSE_WRITE) {
                // The core declined a step for a reason we did not see: be safe, as the mmap write lock.
                counters.increment("rangelock.retry.unknown");
                level = LockNeed.COARSE_WRITE;
                coarseReason = "fault_retry";
            } else {
                throw new IllegalStateException(RangeLockStrategy.NAME + ": fault retried under the full write range at "
                        + Linux.hex(page));
            }
        }
    }

    /** The range for one attempt: coarse at {@code level} above FINE, else the granule or the VMA. */
    private LockIntent intentFor(LockIntent base, Vma vma, long page, LockNeed level) {
        if (level != LockNeed.FINE) {
            LockIntent coarse = base.asCoarse();
            return level == LockNeed.COARSE_WRITE ? coarse.withMode(LockIntent.Mode.WRITE) : coarse;
        }
        if (vma.isAnonymous()) {
            long g = space.granule();
            long lo = Math.max(vma.start(), page & -g);
            long hi = Math.min(vma.end(), (page & -g) + g);
            return base.withRange(lo, hi);
        }
        return base.withRange(vma.start(), vma.end());
    }

    /**
     * Whether the attempt may go on with {@code current} (the VMA at the page now, under the range): it maps
     * the page as {@code found} did, and for file and driver memory the range still covers the whole VMA.
     */
    private static boolean stillValid(Vma found, Vma current, LockIntent intent, long page) {
        if (current == null || !RangeMmLock.sameMappingAt(found, current, page)) {
            return false;
        }
        return current.isAnonymous() || (intent.start() <= current.start() && current.end() <= intent.end());
    }

    private Handle awaitUninterruptibly(Ticket ticket, LockIntent intent) {
        try {
            return space.await(ticket, intent, false);
        } catch (InterruptedException e) {
            throw new AssertionError("an uninterruptible wait threw InterruptedException", e);
        }
    }

    /**
     * {@inheritDoc} The caller's guard covers the page, so the mapping there is stable; only the VMA object
     * may be replaced by a writer elsewhere in it, in which case the fault looks it up again. May block on
     * I/O with the guard held; takes the VMA lock briefly for a first anon identity.
     */
    @Override
    public FaultOutcome handleFaultHolding(FaultCore core, MmLockGuard guard, long addr, Access access) {
        long page = addr & Linux.PAGE_MASK;
        for (int tries = 0;; tries++) {
            Vma vma = tree.find(page);
            HoldingAttempt attempt = new HoldingAttempt(guard, vma);
            FaultOutcome outcome = core.fault(attempt, vma, page, access);
            if (outcome != FaultOutcome.RETRY) {
                return outcome;
            }
            if (!attempt.anonDenied || tries > 1000) {
                throw new IllegalStateException("a fault under " + guard.intent() + " needs more than the caller holds at "
                        + Linux.hex(page) + "; the caller must check driver lock needs first");
            }
            counters.increment("rangelock.retry");
            counters.increment("rangelock.retry.anon");
        }
    }

    /**
     * {@code anon_vma_prepare} under the VMA lock: install a first identity on {@code vma} if it is still in
     * the tree. Returns false when a writer replaced it (the caller looks again). Caller holds a range
     * covering a page of {@code vma}, not the VMA lock.
     */
    private boolean prepareAnon(Vma vma) {
        if (vma.anon() != null) {
            return true;
        }
        space.vmaLock();
        try {
            if (tree.find(vma.start()) != vma) {
                return false;
            }
            vma.prepareAnon(VmaMerge.mergeableAnon(tree, vma));
            return true;
        } finally {
            space.vmaUnlock();
        }
    }

    /** One try of the fault under a range this handler took. */
    private final class Attempt implements FaultAttempt {
        private final LockIntent intent;
        private final Handle handle;
        private final LockNeed level;
        private final boolean mayDropForIo;
        Vma vma;
        boolean released;
        boolean droppedForIo;
        boolean anonDenied;
        LockNeed denied;

        Attempt(LockIntent intent, Handle handle, LockNeed level, boolean mayDropForIo) {
            this.intent = intent;
            this.handle = handle;
            this.level = level;
            this.mayDropForIo = mayDropForIo;
        }

        @Override
        public LockIntent intent() {
            return intent;
        }

        @Override
        public boolean holds(LockNeed need) {
            if (level.atLeast(need)) {
                return true;
            }
            denied = need;
            return false;
        }

        @Override
        public boolean mayPrepareAnon() {
            if (level != LockNeed.FINE || prepareAnon(vma)) {
                return true;
            }
            anonDenied = true;
            return false;
        }

        @Override
        public boolean dropForIo() {
            if (!mayDropForIo) {
                return false;
            }
            release();
            droppedForIo = true;
            return true;
        }

        @Override
        public boolean validate(PteTable table) {
            return true;
        }

        void release() {
            if (!released) {
                released = true;
                handle.unlock();
            }
        }
    }

    /** The attempt of a fault under the caller's guard: holds what the guard holds, never drops it. */
    private final class HoldingAttempt implements FaultAttempt {
        private final MmLockGuard guard;
        private final Vma vma;
        boolean anonDenied;

        HoldingAttempt(MmLockGuard guard, Vma vma) {
            this.guard = guard;
            this.vma = vma;
        }

        @Override
        public LockIntent intent() {
            return guard.intent();
        }

        @Override
        public boolean holds(LockNeed need) {
            return need == LockNeed.FINE || guard.coarseLevel().atLeast(need);
        }

        @Override
        public boolean mayPrepareAnon() {
            if (guard.coarseLevel() != LockNeed.FINE || prepareAnon(vma)) {
                return true;
            }
            anonDenied = true;
            return false;
        }

        @Override
        public boolean dropForIo() {
            return false;
        }

        @Override
        public boolean validate(PteTable table) {
            return true;
        }
    }
}
