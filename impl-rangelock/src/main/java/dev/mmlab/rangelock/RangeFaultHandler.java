package dev.mmlab.rangelock;

import dev.mmlab.api.Access;
import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FaultResult;
import dev.mmlab.api.HoldingFaultAttempt;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.RetryReason;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.Vma;
import dev.mmlab.api.stats.Counters;
import dev.mmlab.rangelock.lock.RangeLock.Handle;
import dev.mmlab.rangelock.lock.RangeLock.Ticket;
import java.util.function.Supplier;

/**
 * The range-locked page fault (Lespinasse's design).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>One attempt.</b> Under the VMA lock, find the VMA at the address and choose the range (private
 *       anonymous memory: the anonFaultGranule-aligned block around the address, clipped to the VMA; file and
 *       driver memory: the VMA), queue a read request for it, drop the VMA lock, wait. Under the range, find
 *       the VMA again: the mapping of the page cannot change any more, but it may have changed while we
 *       waited. If its flags, file, driver or pgoff at the page differ from what chose the range (or a file or
 *       driver VMA grew beyond the range), release and start over; after {@link #MAX_CHANGED} such tries, take
 *       the coarse read lock. Then hand the current VMA object to the engine's fault core.</li>
 *   <li><b>What protects what.</b> The read range keeps the mapping of the page stable, so
 *       {@code validate} is always true. The VMA object is not protected (a writer elsewhere in it may replace
 *       it), so a first anon identity is installed under the VMA lock, and only on a VMA still in the tree
 *       (else {@link RetryReason#NEEDS_ANON}: it was replaced, look again); together with
 *       {@link RangeVmaTree}'s propagation this keeps the identity from being lost to a concurrent split.</li>
 *   <li><b>Lock order.</b> range (granted) &rarr; VMA lock, as in {@link RangeLockInstance}; the VMA lock is
 *       never held while waiting for a range.</li>
 *   <li><b>What the attempt holds.</b> A fine range holds {@link CoarseHold#NONE}; a driver whose fault needs
 *       the coarse lock gets the full range in that mode from the start (its declaration is read before
 *       queueing), and a {@link RetryReason#NEEDS_LOCK} anyway (the VMA changed to such a driver) retries
 *       coarse.</li>
 *   <li><b>I/O.</b> Once per fault (Linux's VM_FAULT_RETRY then FAULT_FLAG_TRIED) the range is released while
 *       the page is read, so a writer on the file VMA does not wait for the disk; the retry finds the page
 *       cached. A second miss waits holding the range, so a fault always makes progress.</li>
 * </ul>
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
        CoarseHold level = CoarseHold.NONE;
        String coarseReason = null;
        boolean mayReleaseForIo = true;
        int changed = 0;
        while (true) {
            Vma found;
            LockIntent intent;
            Ticket ticket;
            space.vmaLock();
            try {
                found = tree.find(page);
                if (found == null && level == CoarseHold.NONE) {
                    // The lookup under the VMA lock is the answer: nothing maps the page (the engine may
                    // then expand a stack under a write range of its own).
                    return FaultOutcome.SEGV;
                }
                if (level == CoarseHold.NONE && found.lockNeed(VmOpsCallback.FAULT) != LockNeed.FINE) {
                    level = holdFor(found.lockNeed(VmOpsCallback.FAULT));
                    coarseReason = "fault_driver";
                }
                intent = intentFor(base, found, page, level);
                ticket = space.enqueue(intent);
            } finally {
                space.vmaUnlock();
            }
            Attempt attempt = new Attempt(awaitUninterruptibly(ticket, intent), level, mayReleaseForIo);
            Vma current = null;
            FaultResult result = null;
            try {
                current = tree.find(page);
                if (level != CoarseHold.NONE || stillValid(found, current, intent, page)) {
                    counters.increment(level == CoarseHold.NONE ? "rangelock.fine" : "rangelock.coarse." + coarseReason);
                    result = core.fault(attempt, current, page, access);
                }
            } finally {
                attempt.release();
            }
            if (result != null && !result.isRetry()) {
                return result.outcome();
            }
            counters.increment("rangelock.retry");
            RetryReason reason = result == null ? null : result.retryReason();
            CoarseHold needed = reason == RetryReason.NEEDS_LOCK ? holdFor(current.lockNeed(VmOpsCallback.FAULT)) : null;
            if (result == null) {
                counters.increment("rangelock.retry.vma_changed");
                if (++changed >= MAX_CHANGED) {
                    level = CoarseHold.READ;
                    coarseReason = "fault_vma_changed";
                }
            } else if (reason == RetryReason.RELEASED_FOR_IO) {
                counters.increment("rangelock.retry.io");
                mayReleaseForIo = false;
            } else if (reason == RetryReason.NEEDS_ANON) {
                counters.increment("rangelock.retry.anon");
            } else if (needed != null && needed.compareTo(level) > 0) {
                counters.increment("rangelock.retry.driver");
                level = needed;
                coarseReason = "fault_driver";
            } else if (level != CoarseHold.WRITE) {
                // The core declined a step for a reason we did not expect: be safe, as the mmap write lock.
                counters.increment("rangelock.retry.unknown");
                level = CoarseHold.WRITE;
                coarseReason = "fault_retry";
            } else {
                throw new IllegalStateException(RangeLockStrategy.NAME + ": fault retried under the full write range at "
                        + Linux.hex(page) + ": " + result);
            }
        }
    }

    /** The weakest hold that satisfies {@code need}. */
    private static CoarseHold holdFor(LockNeed need) {
        return need == LockNeed.COARSE_WRITE ? CoarseHold.WRITE : need == LockNeed.COARSE_READ ? CoarseHold.READ
                : CoarseHold.NONE;
    }

    /** The range for one attempt: the full range at {@code level} above NONE, else the granule or the VMA. */
    private LockIntent intentFor(LockIntent base, Vma vma, long page, CoarseHold level) {
        if (level != CoarseHold.NONE) {
            LockIntent coarse = base.asCoarse();
            return level == CoarseHold.WRITE ? coarse.withMode(LockIntent.Mode.WRITE) : coarse;
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
            FaultResult result = core.fault(new RangeAttempt(guard.coarseHold()), tree.find(page), page, access);
            if (!result.isRetry()) {
                return result.outcome();
            }
            if (result.retryReason() != RetryReason.NEEDS_ANON || tries > 1000) {
                throw new IllegalStateException("a fault under " + guard.intent() + " needs more than the caller holds at "
                        + Linux.hex(page) + " (" + result + "); the caller must check driver lock needs first");
            }
            counters.increment("rangelock.retry");
            counters.increment("rangelock.retry.anon");
        }
    }

    /**
     * An attempt under a range: holds what its range holds mm-wide; under a fine range installs a first anon
     * identity itself, under the VMA lock, if the VMA is still in the tree.
     */
    private class RangeAttempt extends HoldingFaultAttempt {
        RangeAttempt(CoarseHold held) {
            super(held);
        }

        /** Caller holds a range covering a page of {@code vma}, not the VMA lock. */
        @Override
        public boolean prepareAnon(Vma vma, Supplier<AnonIdentity> identity) {
            if (held() != CoarseHold.NONE) {
                return super.prepareAnon(vma, identity);
            }
            space.vmaLock();
            try {
                if (tree.find(vma.start()) != vma) {
                    return false;
                }
                vma.prepareAnon(identity.get());
                return true;
            } finally {
                space.vmaUnlock();
            }
        }
    }

    /** One try of the fault under a range this handler took, which it may release once to wait for I/O. */
    private final class Attempt extends RangeAttempt {
        private final Handle handle;
        private final boolean mayReleaseForIo;
        private boolean released;

        Attempt(Handle handle, CoarseHold level, boolean mayReleaseForIo) {
            super(level);
            this.handle = handle;
            this.mayReleaseForIo = mayReleaseForIo;
        }

        @Override
        public boolean releaseForIo() {
            if (!mayReleaseForIo) {
                return false;
            }
            release();
            return true;
        }

        void release() {
            if (!released) {
                released = true;
                handle.unlock();
            }
        }
    }
}
