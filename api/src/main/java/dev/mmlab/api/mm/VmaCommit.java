package dev.mmlab.api.mm;

import static dev.mmlab.api.VmFlags.VM_GROWSDOWN;

import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.PageAllocator;
import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Applying a planned VMA change ({@code mm/vma.c}: {@code vma_complete}, {@code vma_modify_flags} and the
 * callers' walks): coverage and driver checks, isolation through the strategy's guard, driver
 * {@code open}/{@code close} callbacks, one publication in the tree, and the zap of what went away.
 * {@link VmaLayout} plans (split and merge); this class commits. Every method runs with the strategy's guard
 * held by the caller and may block inside the strategy's isolation ({@link MmLockGuard#startWrite}).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The caller's write guard covers every VMA the edit removes or adds (checked
 *       first, so a failed check changes nothing); the strategy isolates them ({@code startWrite},
 *       {@code prepareNew}) before the one publication; zapping then runs under the same guard, possibly
 *       downgraded to read.</li>
 *   <li><b>Lock order.</b> the strategy's guard (and its per-VMA locks) &rarr; driver callbacks &rarr; one PTL at
 *       a time in the zap; drivers are never called with a PTL held.</li>
 * </ul>
 */
final class VmaCommit {
    private VmaCommit() {}

    /** A per-VMA flag computation that may throw to stop a walk at that VMA. */
    interface FlagChange {
        long apply(Vma vma);
    }

    /** What a flag walk does at a hole in its range. */
    enum Holes {
        /** mprotect, mlock: the first hole ends the walk with ENOMEM; VMAs before it keep their change. */
        STOP,
        /** madvise: holes are passed over; the caller reports ENOMEM after the walk. */
        SKIP
    }

    /**
     * Publish {@code edit} under {@code guard}: check coverage and driver lock needs, isolate, run {@code open}
     * callbacks, replace, zap, run {@code close} callbacks. Nothing is changed if a check fails. With
     * {@code downgradeForZap} the guard may downgrade to read for the zap (munmap).
     */
    static void apply(MmStruct mm, MmLockGuard guard, VmaLayout.Edit edit, boolean downgradeForZap) {
        if (edit.isEmpty() && edit.unmapped.isEmpty()) {
            return;
        }
        Locking.requireCovers(guard, edit.lockStart, edit.lockEnd, true);
        LockNeed need = LockNeed.FINE;
        for (Vma v : edit.opened) {
            need = Locking.max(need, v.lockNeed(VmOpsCallback.OPEN));
        }
        for (Vma v : edit.closed) {
            need = Locking.max(need, v.lockNeed(VmOpsCallback.CLOSE));
        }
        Locking.requireCoarse(guard, need);
        for (Vma v : edit.removed) {
            guard.startWrite(v);
        }
        for (Vma v : edit.added) {
            guard.prepareNew(v);
        }
        runDriverCallbacks(mm, guard, VmOpsCallback.OPEN, edit.opened);
        Sched.cost(Cost.VMA_CHANGE, edit.added.size());
        mm.tree.replace(guard, edit.removed, edit.added);
        for (Vma v : edit.added) {
            if (v.file() != null) {
                v.file().vmaAdded();
                mm.filesSeen.add(v.file());
            }
        }
        for (Vma v : edit.removed) {
            v.markDetached();
        }
        if (!mm.stackMeets.isEmpty()) {
            Mmap.pruneStackMeets(mm, edit.lockStart, edit.lockEnd);
        }
        // A driver whose close needs the write lock keeps it: no downgrade then.
        if (downgradeForZap && !need.atLeast(LockNeed.COARSE_WRITE)) {
            guard.downgrade();
        }
        for (long[] range : edit.unmapped) {
            Memory.zap(mm, range[0], range[1]);
        }
        for (long[] range : edit.unmapped) {
            Memory.freeTables(mm, range[0], range[1]);
        }
        for (Vma v : edit.removed) {
            if (v.file() != null) {
                v.file().vmaRemoved();
            }
        }
        runDriverCallbacks(mm, guard, VmOpsCallback.CLOSE, edit.closed);
    }

    /**
     * The walk of mprotect, mlock and madvise ({@code vma_modify_flags} over every VMA of the range): VMA by
     * VMA from {@code start}, each VMA's new flags from {@code change}; a hole is handled as {@code holes} says
     * and an error {@code change} throws stops the walk at that VMA, keeping what was done before (as Linux
     * does), after which the error is rethrown. With {@code growsDown} (mprotect's PROT_GROWSDOWN) the walk
     * starts at the start of the first VMA, which must grow down. With {@code changePtes} the PTEs of the
     * changed range lose the permissions the new flags no longer allow ({@code change_protection}). Takes the
     * strategy's lock for writing over the range and its merge neighbours; may block.
     */
    static void modifyFlags(MmStruct mm, OpKind op, long start, long end, boolean growsDown, Holes holes,
            boolean changePtes, FlagChange change) {
        Locking.locked(mm, Locking.intentWithNeighbours(mm, op, start, end), guard -> {
            long from = start;
            if (holes == Holes.STOP) {
                Vma first = mm.tree.findNext(start);
                if (first == null || first.start() >= end) {
                    throw ErrnoException.of(Errno.ENOMEM, "%#x-%#x is not mapped", start, end);
                }
                if (growsDown) {
                    if (!first.has(VM_GROWSDOWN)) {
                        throw new ErrnoException(Errno.EINVAL, "PROT_GROWSDOWN on a VMA that does not grow down: " + first);
                    }
                    from = first.start();
                } else if (first.start() > start) {
                    throw ErrnoException.of(Errno.ENOMEM, "%#x is not mapped", start);
                }
            }
            // Plan every VMA first: coverage must be checked before anything changes.
            Map<Vma, Long> newFlags = new IdentityHashMap<>();
            long stopAt = end;
            ErrnoException stop = null;
            long expected = from;
            for (Vma v : mm.tree.overlapping(from, end)) {
                if (holes == Holes.STOP && v.start() > expected) {
                    stopAt = expected;
                    stop = ErrnoException.of(Errno.ENOMEM, "%#x-%#x is not mapped", expected, v.start());
                    break;
                }
                try {
                    newFlags.put(v, change.apply(v));
                } catch (ErrnoException e) {
                    stopAt = Math.max(from, v.start());
                    stop = e;
                    break;
                }
                expected = v.end();
            }
            if (holes == Holes.STOP && stop == null && expected < end) {
                stopAt = expected;
                stop = ErrnoException.of(Errno.ENOMEM, "%#x-%#x is not mapped", expected, end);
            }
            if (stopAt > from && !newFlags.isEmpty()) {
                long lo = from;
                long hi = stopAt;
                VmaLayout.Edit edit = VmaLayout.plan(window(mm, lo, hi), lo, hi, v -> newFlags.getOrDefault(v, v.flags()),
                        mm.vmaStates);
                apply(mm, guard, edit, false);
                if (changePtes) {
                    for (Vma v : edit.added) {
                        if (v.overlaps(lo, hi)) {
                            Mprotect.changeProtection(mm, Math.max(v.start(), lo), Math.min(v.end(), hi), v.flags());
                        }
                    }
                }
            }
            if (stop != null) {
                throw stop;
            }
            return null;
        });
    }

    /** The VMAs overlapping {@code [start, end)} plus those adjacent to it, in order: a plan's window. */
    static List<Vma> window(MmStruct mm, long start, long end) {
        List<Vma> window = new ArrayList<>();
        Vma prev = mm.tree.findPrev(start);
        if (prev != null && prev.end() == start) {
            window.add(prev);
        }
        window.addAll(mm.tree.overlapping(start, end));
        Vma next = mm.tree.find(end);
        if (next != null && next.start() == end) {
            window.add(next);
        }
        return window;
    }

    /** One edit doing {@code first} then {@code second}, where {@code second} was planned on {@code first}'s result. */
    static VmaLayout.Edit combine(VmaLayout.Edit first, VmaLayout.Edit second) {
        VmaLayout.Edit edit = new VmaLayout.Edit();
        Set<Vma> firstAdded = Collections.newSetFromMap(new IdentityHashMap<>());
        firstAdded.addAll(first.added);
        edit.removed.addAll(first.removed);
        for (Vma v : second.removed) {
            if (!firstAdded.remove(v)) {
                edit.removed.add(v);
            }
        }
        edit.added.addAll(firstAdded);
        edit.added.addAll(second.added);
        edit.opened.addAll(first.opened);
        edit.closed.addAll(first.closed);
        VmaLayout.retainOpened(edit);
        edit.unmapped.addAll(first.unmapped);
        edit.lockStart = Math.min(first.lockStart, second.lockStart);
        edit.lockEnd = Math.max(first.lockEnd, second.lockEnd);
        return edit;
    }

    /** The driver's mmap hook ({@code call_mmap}) for {@code vma}, before it is published; returns its flags. */
    static long callDriverMmap(MmStruct mm, MmLockGuard guard, Vma vma) {
        try {
            return vma.ops().mmap(driverContext(mm, VmOpsCallback.MMAP, guard.coarseHold()::satisfies, vma), vma);
        } catch (ErrnoException e) {
            throw e;
        } catch (RuntimeException e) {
            if (e instanceof IllegalStateException && mm.config.checking()) {
                throw e;
            }
            throw new ErrnoException(Errno.EIO, "driver " + vma.ops().name() + " failed in mmap: " + e.getMessage(), e);
        }
    }

    private static void runDriverCallbacks(MmStruct mm, MmLockGuard guard, VmOpsCallback callback, List<Vma> vmas) {
        ErrnoException first = null;
        String name = callback.name().toLowerCase(Locale.ROOT);
        for (Vma v : vmas) {
            try {
                VmOpsContext ctx = driverContext(mm, callback, guard.coarseHold()::satisfies, v);
                if (callback == VmOpsCallback.OPEN) {
                    v.ops().open(ctx, v);
                } else {
                    v.ops().close(ctx, v);
                }
            } catch (RuntimeException e) {
                if (e instanceof IllegalStateException && mm.config.checking()) {
                    throw e;
                }
                mm.counters.increment("driver." + v.ops().name() + "." + name + "_error");
                if (first == null) {
                    first = new ErrnoException(Errno.EIO, "driver " + v.ops().name() + " failed in " + name + " for " + v
                            + ": " + e.getMessage(), e);
                }
                if (callback == VmOpsCallback.OPEN) {
                    throw first;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** A context for a driver callback on {@code vma}; {@code holds} answers what the running thread holds. */
    static VmOpsContext driverContext(MmStruct mm, VmOpsCallback callback, Predicate<LockNeed> holds, Vma vma) {
        return new VmOpsContext() {
            @Override
            public PageAllocator allocator() {
                return mm.allocator();
            }

            @Override
            public CoarseHold held() {
                return holds.test(LockNeed.COARSE_WRITE) ? CoarseHold.WRITE
                        : holds.test(LockNeed.COARSE_READ) ? CoarseHold.READ : CoarseHold.NONE;
            }

            @Override
            public void assertLocked() {
                check(LockNeed.COARSE_READ, "mmap_assert_locked");
            }

            @Override
            public void assertWriteLocked() {
                check(LockNeed.COARSE_WRITE, "mmap_assert_write_locked");
            }

            private void check(LockNeed need, String what) {
                mm.counters.increment("driver." + vma.ops().name() + ".assert");
                if (mm.config.checking() && !holds.test(need)) {
                    mm.counters.increment("driver." + vma.ops().name() + ".assert_failed");
                    throw new IllegalStateException("driver " + vma.ops().name() + ": " + what + " failed in "
                            + callback.name().toLowerCase(Locale.ROOT) + " under " + mm.strategy.name() + ": it holds "
                            + held() + " but relies on " + need + "; declare lockNeed(" + callback + ") = " + need);
                }
            }
        };
    }
}
