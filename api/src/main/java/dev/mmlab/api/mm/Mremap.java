package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code mm/mremap.c} as Linux 6.18 has it: argument checks, shrink, grow in place, move (MAYMOVE, FIXED,
 * DONTUNMAP) and the 6.17 multi-VMA fixed move. The whole call runs under one write guard over the old range,
 * the target and their merge neighbours; a target found without the lock is verified under it, else the call
 * relocks coarse.
 */
final class Mremap {
    private Mremap() {}

    /** {@code mremap(2)}: {@code check_mremap_params} then the dispatch of {@code do_mremap}; see {@link Mm#mremap}. */
    static long mremap(MmStruct mm, long oldAddr, long oldLenIn, long newLenIn, int flags, long newAddr) {
        if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0) {
            throw ErrnoException.of(Errno.EINVAL, "unknown mremap flags %#x", flags);
        }
        boolean mayMove = (flags & MREMAP_MAYMOVE) != 0;
        boolean fixed = (flags & MREMAP_FIXED) != 0;
        boolean dontUnmap = (flags & MREMAP_DONTUNMAP) != 0;
        if (!isPageAligned(oldAddr)) {
            throw ErrnoException.of(Errno.EINVAL, "old address %#x is not page aligned", oldAddr);
        }
        long oldLen = pageAlign(oldLenIn);
        long newLen = pageAlign(newLenIn);
        if (newLen == 0) {
            throw new ErrnoException(Errno.EINVAL, "mremap new length is zero");
        }
        if (newLen < 0 || newLen > TASK_SIZE) {
            throw ErrnoException.of(Errno.EINVAL, "mremap new length %#x is larger than the address space", newLenIn);
        }
        boolean impliesNewAddr = fixed || dontUnmap;
        if (impliesNewAddr) {
            if (newAddr < 0 || newAddr > TASK_SIZE - newLen) {
                throw ErrnoException.of(Errno.EINVAL, "new address %#x is out of range", newAddr);
            }
            if (!isPageAligned(newAddr)) {
                throw ErrnoException.of(Errno.EINVAL, "new address %#x is not page aligned", newAddr);
            }
            if (!mayMove) {
                throw new ErrnoException(Errno.EINVAL, "MREMAP_FIXED and MREMAP_DONTUNMAP need MREMAP_MAYMOVE");
            }
            if (dontUnmap && oldLen != newLen) {
                throw new ErrnoException(Errno.EINVAL, "MREMAP_DONTUNMAP needs equal lengths");
            }
            if (Long.compareUnsigned(oldAddr + oldLen, newAddr) > 0 && Long.compareUnsigned(newAddr + newLen, oldAddr) > 0) {
                throw new ErrnoException(Errno.EINVAL, "old and new ranges overlap");
            }
        }
        if (oldAddr < 0 || oldAddr >= TASK_SIZE) {
            throw ErrnoException.of(Errno.EFAULT, "%#x is not mapped (outside user space)", oldAddr);
        }
        // The old range as far as it can hold VMAs (a length past the top is not an error by itself).
        long oldEnd = oldLen < 0 || oldAddr + oldLen < oldAddr || oldAddr + oldLen > TASK_SIZE ? TASK_SIZE : oldAddr + oldLen;
        long peekTarget = peekMoveTarget(mm, oldAddr, oldLen, newLen, flags, newAddr);
        long lo = Math.min(oldAddr, peekTarget);
        long hi = Math.max(Math.max(oldEnd, oldAddr + Math.min(newLen, TASK_SIZE - oldAddr)), peekTarget + newLen);
        return Locking.locked(mm, Locking.intentWithNeighbours(mm, OpKind.MREMAP, lo, hi), guard -> {
            Locking.requireCoversWithNeighbours(mm, guard, lo, hi);
            if (fixed && oldLen == newLen) {
                return remapMove(mm, guard, oldAddr, oldEnd, newAddr, dontUnmap);
            }
            Vma v = mm.tree.find(oldAddr);
            if (v == null) {
                throw ErrnoException.of(Errno.EFAULT, "%#x is not mapped", oldAddr);
            }
            // Lengths are unsigned in Linux: a negative long is a huge length.
            boolean shrink = Long.compareUnsigned(newLen, oldLen) < 0;
            boolean expand = Long.compareUnsigned(newLen, oldLen) > 0;
            // check_prep_vma: the checks below apply only when the call maps something new.
            if (expand || impliesNewAddr) {
                if (oldLen == 0) {
                    throw new ErrnoException(Errno.EINVAL, v.has(VM_MAYSHARE)
                            ? "mremap with old_len 0 (duplicating a shared mapping) is not modelled"
                            : "mremap with old_len 0 cannot duplicate a private mapping");
                }
                if (dontUnmap && v.has(VM_DONTEXPAND | VM_PFNMAP)) {
                    throw new ErrnoException(Errno.EINVAL, "MREMAP_DONTUNMAP of a special mapping: " + v);
                }
                long kept = shrink ? newLen : oldLen;
                if (kept > v.end() - oldAddr) {
                    throw ErrnoException.of(Errno.EFAULT, "%#x-%#x is not one mapping", oldAddr, oldAddr + kept);
                }
                if (expand && v.has(VM_DONTEXPAND | VM_PFNMAP)) {
                    throw new ErrnoException(Errno.EFAULT, "cannot grow a special mapping: " + v);
                }
            }
            if (shrink && Long.compareUnsigned(oldLen - newLen, TASK_SIZE - (oldAddr + newLen)) > 0) {
                throw ErrnoException.of(Errno.EINVAL, "mremap: the range to unmap %#x+%#x leaves user space", oldAddr + newLen, oldLen - newLen);
            }
            Locking.requireCoarse(guard, Locking.max(Locking.driverNeed(mm, oldAddr, oldEnd),
                    impliesNewAddr && fixed ? Locking.driverNeed(mm, newAddr, newAddr + newLen) : LockNeed.FINE));
            if (impliesNewAddr) {
                return mremapTo(mm, guard, oldAddr, oldLen, newLen, newAddr, fixed, dontUnmap, peekTarget);
            }
            if (!shrink && !expand) {
                return oldAddr;
            }
            if (shrink) {
                // shrink_vma: the tail goes like an munmap, whatever VMAs and holes it spans; the lock may drop.
                Mmap.unmapLocked(mm, guard, oldAddr + newLen, oldAddr + oldLen, true);
                return oldAddr;
            }
            if (oldAddr + oldLen == v.end()) {
                Vma next = mm.tree.findNext(v.end());
                if ((next == null || next.start() >= oldAddr + newLen) && oldAddr + newLen <= TASK_SIZE) {
                    growInPlace(mm, guard, v, oldAddr + newLen);
                    return oldAddr;
                }
            }
            if (!mayMove) {
                throw ErrnoException.of(Errno.ENOMEM, "cannot grow %#x in place and MREMAP_MAYMOVE was not given", oldAddr);
            }
            long target = guard.intent().isCoarse() ? Mmap.unmappedArea(mm, 0, newLen, thpEligible(v)) : peekTarget;
            if (!mm.tree.overlapping(target, target + newLen).isEmpty() || target == oldAddr) {
                throw Locking.NeedsWiderLock.coarse();
            }
            return moveVma(mm, guard, v, oldAddr, oldLen, newLen, target, false);
        });
    }

    /** {@code mremap_to}: a fixed or DONTUNMAP move of one VMA, after unmapping the target and shrinking. */
    private static long mremapTo(MmStruct mm, MmLockGuard guard, long oldAddr, long oldLen, long newLen, long newAddr,
            boolean fixed, boolean dontUnmap, long peekTarget) {
        long target;
        if (fixed) {
            Mmap.unmapLocked(mm, guard, newAddr, newAddr + newLen, false);
            target = newAddr;
        } else {
            // vrm_set_new_addr: without MREMAP_FIXED the new address is a hint.
            Vma v = mm.tree.find(oldAddr);
            target = guard.intent().isCoarse() ? Mmap.unmappedArea(mm, newAddr, newLen, newAddr == 0 && thpEligible(v))
                    : peekTarget;
            if (!mm.tree.overlapping(target, target + newLen).isEmpty()
                    || overlaps(oldAddr, oldAddr + oldLen, target, target + newLen)) {
                throw Locking.NeedsWiderLock.coarse();
            }
        }
        long len = oldLen;
        if (Long.compareUnsigned(newLen, oldLen) < 0) {
            Mmap.unmapLocked(mm, guard, oldAddr + newLen, oldAddr + oldLen, false);
            len = newLen;
        }
        Vma v = mm.tree.find(oldAddr);
        if (v == null) {
            throw ErrnoException.of(Errno.EFAULT, "%#x is no longer mapped", oldAddr);
        }
        return moveVma(mm, guard, v, oldAddr, len, newLen, target, dontUnmap);
    }

    /**
     * {@code remap_move} (6.17+): a fixed move of the same size. Every VMA in {@code [start, end)} moves by the
     * same delta, so gaps keep their size, and each unmaps only its own part of the target. A hole at the start
     * is EFAULT; an error at one VMA leaves the moves before it done.
     */
    private static long remapMove(MmStruct mm, MmLockGuard guard, long start, long end, long newAddr, boolean dontUnmap) {
        Locking.requireCoarse(guard, Locking.max(Locking.driverNeed(mm, start, end),
                Locking.driverNeed(mm, newAddr, newAddr + (end - start))));
        long cursor = start;
        boolean seen = false;
        while (cursor < end) {
            Vma v = mm.tree.findNext(cursor);
            if (v == null || v.start() >= end) {
                break;
            }
            if (!seen && v.start() > start) {
                throw ErrnoException.of(Errno.EFAULT, "%#x is not mapped", start);
            }
            seen = true;
            long addr = Math.max(v.start(), start);
            long len = Math.min(end, v.end()) - addr;
            if (dontUnmap && v.has(VM_DONTEXPAND | VM_PFNMAP)) {
                throw new ErrnoException(Errno.EINVAL, "MREMAP_DONTUNMAP of a special mapping: " + v);
            }
            long target = newAddr + (addr - start);
            Mmap.unmapLocked(mm, guard, target, target + len, false);
            Vma current = mm.tree.find(addr);
            if (current == null) {
                throw ErrnoException.of(Errno.EFAULT, "%#x is no longer mapped", addr);
            }
            moveVma(mm, guard, current, addr, len, len, target, dontUnmap);
            cursor = addr + len;
        }
        if (!seen) {
            throw ErrnoException.of(Errno.EFAULT, "%#x-%#x is not mapped", start, end);
        }
        return newAddr;
    }

    /** Whether {@code get_unmapped_area} takes the THP path for a move of {@code v}: private anonymous memory. */
    private static boolean thpEligible(Vma v) {
        return v != null && v.isAnonymous() && !v.has(VM_MAYSHARE);
    }

    /** Where a move would go, read without a lock: the lock's range; verified under the lock. */
    private static long peekMoveTarget(MmStruct mm, long oldAddr, long oldLen, long newLen, int flags, long newAddr) {
        if ((flags & MREMAP_FIXED) != 0) {
            return newAddr;
        }
        Vma vma = mm.tree.find(oldAddr);
        boolean dontUnmap = (flags & MREMAP_DONTUNMAP) != 0;
        if ((flags & MREMAP_MAYMOVE) == 0 || vma == null || (!dontUnmap && newLen <= oldLen)) {
            return oldAddr;
        }
        if (!dontUnmap) {
            Vma next = mm.tree.findNext(vma.end());
            if (oldAddr + oldLen == vma.end() && (next == null || next.start() >= oldAddr + newLen)) {
                return oldAddr;
            }
        }
        try {
            long hint = dontUnmap ? newAddr : 0;
            return Mmap.unmappedArea(mm, hint, newLen, hint == 0 && thpEligible(vma));
        } catch (ErrnoException e) {
            return oldAddr;
        }
    }

    /** {@code vma_merge_extend}: grow {@code v} to {@code newEnd}, merging with the next VMA where it may. */
    private static void growInPlace(MmStruct mm, MmLockGuard guard, Vma v, long newEnd) {
        Vma grown = new Vma(v.start(), newEnd, v.flags(), v.pgoff(), v.file(), v.ops(), v.anon(), mm.newVmaState());
        List<Vma> window = new ArrayList<>();
        Vma next = mm.tree.find(newEnd);
        if (next != null && next.start() == newEnd) {
            window.add(next);
        }
        VmaLayout.Edit insert = VmaLayout.insert(window, grown, mm.vmaStates);
        insert.removed.add(v);
        insert.lockStart = Math.min(insert.lockStart, v.start());
        VmaCommit.apply(mm, guard, insert, false);
        if (grown.has(VM_LOCKED)) {
            Gup.populate(mm, guard, v.end(), newEnd);
        }
    }

    /**
     * {@code move_vma}: a copy of {@code v}'s mapping at {@code target} (driver {@code open} runs for it, as
     * {@code copy_vma} does), merged with its new neighbours; PTEs move; the old range is unmapped, or with
     * DONTUNMAP stays, its VMA losing VM_LOCKED (and its anon identity when all of it moved).
     */
    private static long moveVma(MmStruct mm, MmLockGuard guard, Vma v, long oldAddr, long oldLen, long newLen, long target,
            boolean dontUnmap) {
        Locking.requireCovers(guard, Math.min(oldAddr, target), Math.max(oldAddr + oldLen, target + newLen), true);
        long pgoff = v.pgoffOf(oldAddr);
        if (v.isAnonymous() && v.anon() == null) {
            // copy_vma: an anonymous VMA never faulted takes the pgoff of its new address.
            pgoff = target >>> PAGE_SHIFT;
        }
        boolean wholeVma = v.start() == oldAddr && v.end() == oldAddr + oldLen;
        Vma moved = new Vma(target, target + newLen, v.flags(), pgoff, v.file(), v.ops(), v.anon(), mm.newVmaState());
        VmaLayout.Edit insert = VmaLayout.insert(VmaCommit.window(mm, target, target + newLen), moved, mm.vmaStates);
        if (moved.ops() != null) {
            insert.opened.add(moved);
        }
        // move_vma: the source is write-isolated before its PTEs move, so no fault can map a page there that
        // the unmap below would then zap (a lost write).
        guard.startWrite(v);
        VmaCommit.apply(mm, guard, insert, false);
        Memory.movePtes(mm, oldAddr, target, Math.min(oldLen, newLen));
        if (!dontUnmap) {
            Mmap.unmapLocked(mm, guard, oldAddr, oldAddr + oldLen, false);
        } else {
            dontUnmapComplete(mm, guard, v, oldAddr, wholeVma);
        }
        if (moved.has(VM_LOCKED) && newLen > oldLen) {
            Gup.populate(mm, guard, target + oldLen, target + newLen);
        }
        return target;
    }

    /**
     * {@code dontunmap_complete}: the VMA left at the old address loses VM_LOCKED and VM_LOCKONFAULT (its pages
     * moved away); if the whole VMA moved and was not merged into the copy, its anon identity is unlinked.
     * Linux changes the flags in place ({@code vm_flags_clear}): no split, no merge.
     */
    private static void dontUnmapComplete(MmStruct mm, MmLockGuard guard, Vma original, long oldAddr, boolean wholeVma) {
        Vma stays = mm.tree.find(oldAddr);
        if (stays == null) {
            return;
        }
        boolean unlinkAnon = wholeVma && stays == original && stays.anon() != null;
        long flags = stays.flags() & ~VM_LOCKED_MASK;
        if (flags == stays.flags() && !unlinkAnon) {
            return;
        }
        VmaLayout.Edit edit = new VmaLayout.Edit();
        edit.removed.add(stays);
        edit.added.add(new Vma(stays.start(), stays.end(), flags, stays.pgoff(), stays.file(), stays.ops(),
                unlinkAnon ? null : stays.anon(), mm.newVmaState()));
        edit.lockStart = stays.start();
        edit.lockEnd = stays.end();
        VmaCommit.apply(mm, guard, edit, false);
    }
}
