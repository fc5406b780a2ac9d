package dev.mmlab.rangelock;

import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.Vma;
import dev.mmlab.rangelock.lock.RangeLock.Handle;
import java.util.List;

/**
 * The syscall side of the range-locked mm: an intent gets exactly its range {@code [start, end)}, read or
 * write; a coarse intent is the full range. The engine re-plans and widens when {@link MmLockGuard#covers}
 * says no. See {@link RangeLockInstance} for what the ranges protect.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> A guard's write range excludes every fault and syscall whose range
 *       overlaps, so {@link MmLockGuard#startWrite} has nothing to wait for; it checks that the guard is a held
 *       write range (in checking mode also that the range touches the VMA). In checking mode
 *       {@link MmLockGuard#prepareNew} verifies that a new VMA maps, outside the locked range, exactly what the
 *       tree maps there now. A guard's {@code held} flag is plain: the guard belongs to the thread that locked
 *       it.</li>
 *   <li><b>Lock order.</b> as {@link RangeLockInstance}: the request is queued under the VMA lock, which is
 *       dropped before the wait; a caller holds no range of this mm when it locks. The checks above read the
 *       lockless tree and take nothing.</li>
 * </ul>
 */
final class RangeMmLock implements MmLock {
    private final RangeLockInstance space;

    RangeMmLock(RangeLockInstance space) {
        this.space = space;
    }

    /**
     * {@inheritDoc} Caller holds no range of this mm. Queues under the VMA lock, then waits without it; the
     * wait is recorded with the intents ahead of it.
     */
    @Override
    public MmLockGuard lock(LockIntent intent) {
        Handle handle;
        try {
            handle = space.acquire(intent, true);
        } catch (InterruptedException e) {
            throw new ErrnoException(Errno.EINTR, "interrupted while waiting for the range lock on "
                    + Linux.hex(intent.start()) + "-" + Linux.hex(intent.end()) + " (" + intent.op().label() + ")");
        }
        space.counters().increment(intent.isCoarse() ? "rangelock.coarse." + intent.op().label() : "rangelock.fine");
        return new Guard(intent, handle);
    }

    @Override
    public boolean isIdle() {
        return space.isIdle();
    }

    @Override
    public String describe() {
        return space.describe();
    }

    /** A granted range, owned by the thread that locked it. */
    final class Guard implements MmLockGuard {
        private final LockIntent intent;
        private final Handle handle;
        private boolean held = true;

        Guard(LockIntent intent, Handle handle) {
            this.intent = intent;
            this.handle = handle;
        }

        @Override
        public LockIntent intent() {
            return intent;
        }

        /** {@inheritDoc} True iff held, inside the locked range, and in write mode when asked for a write. */
        @Override
        public boolean covers(long start, long end, boolean write) {
            if (!held || (write && !intent.isWrite())) {
                return false;
            }
            return start >= end || (intent.start() <= start && end <= intent.end());
        }

        @Override
        public CoarseHold coarseHold() {
            if (!held || !intent.isCoarse()) {
                return CoarseHold.NONE;
            }
            return intent.isWrite() ? CoarseHold.WRITE : CoarseHold.READ;
        }

        /**
         * {@inheritDoc} Nothing to wait for: the write range already excludes every fault and syscall whose
         * range overlaps. Checks that the guard is a held write range touching {@code vma} (every VMA an edit
         * removes overlaps the edit's range).
         */
        @Override
        public void startWrite(Vma vma) {
            requireWrite(vma);
            if (space.checking() && !vma.overlaps(intent.start(), intent.end())) {
                throw new IllegalStateException(RangeLockStrategy.NAME + ": " + vma + " is changed under " + intent
                        + ", which does not overlap it");
            }
        }

        /**
         * {@inheritDoc} In checking mode, verifies that every part of {@code vma} outside the locked range
         * maps exactly what the current tree maps there (same flags, file, driver and pgoff): a change outside
         * the range would race with faults there.
         */
        @Override
        public void prepareNew(Vma vma) {
            requireWrite(vma);
            if (space.checking()) {
                checkUnchangedOutside(vma);
            }
        }

        private void requireWrite(Vma vma) {
            if (!held || !intent.isWrite()) {
                throw new IllegalStateException(RangeLockStrategy.NAME + ": VMA change of " + vma
                        + " without a write range: " + intent);
            }
        }

        private void checkUnchangedOutside(Vma vma) {
            long lo = vma.start();
            long hi = vma.end();
            // The parts of vma below and above the locked range.
            checkPart(vma, lo, Math.min(hi, intent.start()));
            checkPart(vma, Math.max(lo, intent.end()), hi);
        }

        private void checkPart(Vma vma, long from, long to) {
            if (from >= to) {
                return;
            }
            long expected = from;
            List<Vma> old = space.tree().overlapping(from, to);
            for (Vma o : old) {
                long s = Math.max(from, o.start());
                if (s > expected || !sameMappingAt(o, vma, s)) {
                    break;
                }
                expected = Math.min(to, o.end());
            }
            if (expected < to) {
                throw new IllegalStateException(RangeLockStrategy.NAME + ": new " + vma + " changes the mapping at "
                        + Linux.hex(expected) + ", outside the locked range of " + intent);
            }
        }

        @Override
        public void close() {
            if (!held) {
                return;
            }
            held = false;
            handle.unlock();
        }

        @Override
        public String toString() {
            return "range guard " + intent + (held ? "" : " (released)");
        }
    }

    /** Whether {@code a} and {@code b} map {@code addr} identically (anon identity aside). */
    static boolean sameMappingAt(Vma a, Vma b, long addr) {
        return a.flags() == b.flags() && a.file() == b.file() && a.ops() == b.ops() && a.pgoffOf(addr) == b.pgoffOf(addr);
    }
}
