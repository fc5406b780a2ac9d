package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.Access;
import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;

/**
 * {@code mm/madvise.c}: flag advices change VMAs through the shared flag walk under the write lock; DONTNEED
 * and REMOVE zap under the read lock, FREE cleans the PTEs it keeps, PAGEOUT unmaps shmem pages (there is no
 * swap for anonymous ones); WILLNEED and COLD only walk under the read lock; POPULATE_READ/WRITE fault pages in
 * through the fault path, VMA by VMA.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Flag advices hold the strategy's write lock over the range and its merge
 *       neighbours ({@link VmaCommit#modifyFlags}). The read-lock advices hold a read guard over the range: it keeps
 *       the VMAs, while each PTE they clear or clean (DONTNEED, REMOVE, FREE, PAGEOUT) is changed under its table's
 *       PTL, as {@code zap_page_range} does under the mmap read lock, so a racing fault either installs its page
 *       before the walk reaches it or after.</li>
 *   <li><b>Lock order.</b> the strategy's guard &rarr; one PTL at a time; REMOVE then takes the file's page cache
 *       entries one at a time with no PTL held ({@link dev.mmlab.api.mem.PageCache#punchHole}). POPULATE holds
 *       nothing of its own: each fault takes the strategy's locks.</li>
 *   <li><b>What a reader may see mid-update.</b> A walk that stops at an invalid VMA (EINVAL) leaves the VMAs
 *       before it advised, as Linux does; a concurrent fault may map a page FREE already passed, dirty.</li>
 * </ul>
 */
final class Madvise {
    private Madvise() {}

    /** {@code madvise(2)}; see {@link Mm#madvise}. */
    static void madvise(MmStruct mm, long addr, long len, int advice) {
        if (!isPageAligned(addr)) {
            throw ErrnoException.of(Errno.EINVAL, "madvise address %#x is not page aligned", addr);
        }
        if (!knownAdvice(advice)) {
            throw ErrnoException.of(Errno.EINVAL, "unknown madvise advice %d", advice);
        }
        long length = pageAlign(len);
        if (len < 0 || (len != 0 && length == 0) || addr + length < addr) {
            throw ErrnoException.of(Errno.EINVAL, "madvise range %#x+%#x overflows", addr, len);
        }
        long end = addr + length;
        if (end == addr) {
            return;
        }
        if (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE) {
            populate(mm, addr, end, advice == MADV_POPULATE_WRITE);
            return;
        }
        boolean holes = hasHoles(mm, addr, end);
        VmaCommit.FlagChange flagChange = flagAdvice(advice);
        if (flagChange != null) {
            VmaCommit.modifyFlags(mm, OpKind.MADVISE, addr, end, false, VmaCommit.Holes.SKIP, false, flagChange);
        } else {
            underReadLock(mm, addr, end, advice);
        }
        if (holes) {
            throw ErrnoException.of(Errno.ENOMEM, "part of %#x-%#x is not mapped", addr, end);
        }
    }

    private static boolean hasHoles(MmStruct mm, long start, long end) {
        long expected = start;
        for (Vma v : mm.tree.overlapping(start, end)) {
            if (v.start() > expected) {
                return true;
            }
            expected = v.end();
        }
        return expected < end;
    }

    private static boolean knownAdvice(int advice) {
        switch (advice) {
            case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED: case MADV_DONTNEED:
            case MADV_FREE: case MADV_REMOVE: case MADV_DONTFORK: case MADV_DOFORK: case MADV_MERGEABLE:
            case MADV_UNMERGEABLE: case MADV_HUGEPAGE: case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP:
            case MADV_WIPEONFORK: case MADV_KEEPONFORK: case MADV_COLD: case MADV_PAGEOUT: case MADV_POPULATE_READ:
            case MADV_POPULATE_WRITE:
                return true;
            default:
                return false;
        }
    }

    /** {@code madvise_vma_behavior}: the VMA flag change of a flag advice, or null for advices that do not change VMAs. */
    private static VmaCommit.FlagChange flagAdvice(int advice) {
        switch (advice) {
            case MADV_NORMAL:
                return v -> v.flags() & ~(VM_RAND_READ | VM_SEQ_READ);
            case MADV_RANDOM:
                return v -> (v.flags() & ~VM_SEQ_READ) | VM_RAND_READ;
            case MADV_SEQUENTIAL:
                return v -> (v.flags() & ~VM_RAND_READ) | VM_SEQ_READ;
            case MADV_DONTFORK:
                return v -> v.flags() | VM_DONTCOPY;
            case MADV_DOFORK:
                return v -> {
                    if (v.has(VM_IO)) {
                        throw new ErrnoException(Errno.EINVAL, "MADV_DOFORK on an I/O mapping: " + v);
                    }
                    return v.flags() & ~VM_DONTCOPY;
                };
            case MADV_WIPEONFORK:
                return v -> {
                    if (v.file() != null || v.isShared() || v.ops() != null) {
                        throw new ErrnoException(Errno.EINVAL, "MADV_WIPEONFORK is only for private anonymous memory: " + v);
                    }
                    return v.flags() | VM_WIPEONFORK;
                };
            case MADV_KEEPONFORK:
                return v -> v.flags() & ~VM_WIPEONFORK;
            case MADV_DONTDUMP:
                return v -> v.flags() | VM_DONTDUMP;
            case MADV_DODUMP:
                return v -> {
                    if (v.isSpecial()) {
                        throw new ErrnoException(Errno.EINVAL, "MADV_DODUMP on a special mapping: " + v);
                    }
                    return v.flags() & ~VM_DONTDUMP;
                };
            case MADV_HUGEPAGE:
                return v -> (v.flags() & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
            case MADV_NOHUGEPAGE:
                return v -> (v.flags() & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
            case MADV_MERGEABLE:
                return v -> v.isShared() || v.isSpecial() ? v.flags() : v.flags() | VM_MERGEABLE;
            case MADV_UNMERGEABLE:
                return v -> v.flags() & ~VM_MERGEABLE;
            default:
                return null;
        }
    }

    /**
     * {@code madvise_populate}: fault pages in VMA by VMA from {@code start} ({@code faultin_page_range}),
     * stopping at the first hole with ENOMEM and at the first VMA that forbids the access (VM_IO/VM_PFNMAP, no
     * VM_READ for a read, no VM_WRITE for a write) with EINVAL; what was populated before stays. A fault that
     * fails gives EFAULT (SIGBUS, SIGSEGV) or ENOMEM (out of memory).
     */
    private static void populate(MmStruct mm, long start, long end, boolean write) {
        Access access = write ? Access.WRITE : Access.READ;
        long addr = start;
        while (addr < end) {
            Vma v = mm.tree.find(addr);
            if (v == null) {
                throw ErrnoException.of(Errno.ENOMEM, "MADV_POPULATE: %#x is not mapped", addr);
            }
            if (v.has(VM_IO | VM_PFNMAP) || !v.has(write ? VM_WRITE : VM_READ)) {
                throw ErrnoException.of(Errno.EINVAL, "MADV_POPULATE_%s on a mapping that does not allow it: %s",
                        write ? "WRITE" : "READ", v);
            }
            long stop = Math.min(end, v.end());
            FaultOutcome outcome = Gup.populateWith(mm, null, addr, stop, x -> access, false);
            if (outcome == FaultOutcome.OOM) {
                throw new ErrnoException(Errno.ENOMEM, "MADV_POPULATE ran out of memory");
            }
            if (outcome == FaultOutcome.ACCESS) {
                throw ErrnoException.of(Errno.EINVAL, "MADV_POPULATE: the mapping changed under it (%s)", outcome);
            }
            if (outcome != FaultOutcome.MAPPED) {
                throw ErrnoException.of(Errno.EFAULT, "MADV_POPULATE: the fault failed (%s)", outcome);
            }
            addr = stop;
        }
    }

    /**
     * The advices Linux runs under the mmap read lock, VMA by VMA ({@code madvise_walk_vmas}): zap (DONTNEED, FREE,
     * REMOVE) or hints (WILLNEED, COLD, PAGEOUT). A VMA the advice is invalid for stops the walk with EINVAL, what
     * was done to the VMAs before it kept. DONTNEED and FREE on a range inside one VMA run under that VMA's read
     * lock when the strategy gives one (6.18's {@code MADVISE_VMA_READ_LOCK}:
     * {@link dev.mmlab.api.StrategyInstance#lockVmaCovering}).
     */
    private static void underReadLock(MmStruct mm, long start, long end, int advice) {
        LockIntent intent = LockIntent.of(OpKind.MADVISE, LockIntent.Mode.READ, start, end);
        LockTally tally = LockTally.operation();
        try {
            if ((advice == MADV_DONTNEED || advice == MADV_FREE) && underVmaLock(mm, intent, advice, tally)) {
                return;
            }
            Locking.locked(mm, intent, tally, guard -> {
                Locking.requireCovers(guard, start, end, false);
                for (Vma v : mm.tree.overlapping(start, end)) {
                    advise(mm, v, Math.max(start, v.start()), Math.min(end, v.end()), advice);
                }
                return null;
            });
        } finally {
            tally.record(mm.lockUse, OpKind.MADVISE);
        }
    }

    /** {@code try_vma_read_lock}: the whole advice under one VMA read lock, if the strategy gives it. */
    private static boolean underVmaLock(MmStruct mm, LockIntent intent, int advice, LockTally tally) {
        Vma vma = mm.parts.lockVmaCovering(intent);
        if (vma == null) {
            return false;
        }
        tally.tried(CoarseHold.NONE, false);
        try {
            if (vma.start() > intent.start() || vma.end() < intent.end()) {
                throw new IllegalStateException(mm.strategy.name() + ": lockVmaCovering gave " + vma
                        + ", which does not cover " + intent);
            }
            advise(mm, vma, intent.start(), intent.end(), advice);
        } finally {
            mm.parts.unlockVmaForRead(vma);
        }
        return true;
    }

    /** One read-lock advice on {@code [from, to)}, which lies in {@code v}. */
    private static void advise(MmStruct mm, Vma v, long from, long to, int advice) {
        switch (advice) {
            case MADV_DONTNEED:
            case MADV_FREE:
                dontneedOrFree(mm, v, from, to, advice);
                break;
            case MADV_REMOVE:
                remove(mm, v, from, to);
                break;
            case MADV_COLD:
                // madvise_cold: refused where reclaim may not take pages (locked, PFN maps); otherwise only ages
                // pages, which the model does not track: the walk is what it costs others.
                requireLruVma(v, "MADV_COLD");
                break;
            case MADV_PAGEOUT:
                requireLruVma(v, "MADV_PAGEOUT");
                if (v.file() != null && v.file().isShmem()) {
                    pageoutShmem(mm, from, to);
                }
                break;
            default:
                // WILLNEED: a hint the model does not act on, but Linux walks the VMAs under the mmap read lock,
                // and that is what it costs other threads.
                break;
        }
    }

    /**
     * {@code can_madv_lru_vma}: DONTNEED, FREE, COLD and PAGEOUT work on pages reclaim could take, so a VM_LOCKED
     * or VM_PFNMAP VMA (and hugetlb, which the model has none of) is EINVAL.
     */
    private static void requireLruVma(Vma v, String advice) {
        if (v.has(VM_LOCKED | VM_PFNMAP)) {
            throw new ErrnoException(Errno.EINVAL, advice + " on a locked or PFN mapping: " + v);
        }
    }

    /**
     * {@code madvise_pageout} of shared anonymous memory: reclaim unmaps each page only this PTE maps
     * ({@code try_to_unmap} in {@code shrink_folio_list}) before it finds there is no swap to write it to, so the
     * page stays in its shmem object and leaves the page table: Rss falls, and the next touch maps it again.
     * The model has no swap at all, so private anonymous pages are never reclaimed and PAGEOUT leaves them (as
     * Linux does with no swap). Caller holds the read guard over the range.
     */
    private static void pageoutShmem(MmStruct mm, long from, long to) {
        mm.pageTables.forEachPtl(from, to, (table, lo, hi) -> {
            int unmapped = 0;
            for (long a = lo; a < hi; a += PAGE_SIZE) {
                Page p = table.page(a);
                // One reference is the shmem object's; a page mapped elsewhere too is left alone, as reclaim
                // of a folio mapped more than once is ("do not interfere with other mappings").
                if (p == null || p.kind() != Page.Kind.FILE || p.refcount() - 1 - Gup.pinCount(mm, p) != 1) {
                    continue;
                }
                table.clear(a).put();
                unmapped++;
            }
            Sched.cost(Cost.ZAP_PAGE, unmapped);
        });
    }

    /** {@code madvise_dontneed_free} for one VMA's part {@code [from, to)}. */
    private static void dontneedOrFree(MmStruct mm, Vma v, long from, long to, int advice) {
        requireLruVma(v, advice == MADV_FREE ? "MADV_FREE" : "MADV_DONTNEED");
        if (advice == MADV_FREE && !v.isAnonymous()) {
            throw new ErrnoException(Errno.EINVAL, "MADV_FREE is only for private anonymous memory: " + v);
        }
        if (advice == MADV_FREE) {
            lazyFree(mm, from, to);
        } else {
            Memory.zap(mm, from, to);
        }
    }

    /**
     * {@code madvise_free_pte_range}: FREE does not unmap. Each page this mm alone maps stays mapped, made clean
     * and old, so reclaim may drop it later instead of swapping it, and a write before then dirties it again and
     * keeps it; only Dirty falls in smaps, not Rss. A page shared with another mapping (after fork) is left as it
     * is, and the zero page has nothing to free. Caller holds the read guard over the range.
     */
    private static void lazyFree(MmStruct mm, long from, long to) {
        mm.pageTables.forEachPtl(from, to, (table, lo, hi) -> {
            int cleaned = 0;
            for (long a = lo; a < hi; a += PAGE_SIZE) {
                Page p = table.page(a);
                if (p == null || p.kind() != Page.Kind.ANON || p.refcount() - Gup.pinCount(mm, p) != 1) {
                    continue;
                }
                table.setBits(a, table.bits(a) & ~(PteTable.DIRTY | PteTable.ACCESSED));
                cleaned++;
            }
            Sched.cost(Cost.ZAP_PAGE, cleaned);
        });
    }

    /** {@code madvise_remove} for one VMA's part {@code [from, to)}: punch the range out of the file. */
    private static void remove(MmStruct mm, Vma v, long from, long to) {
        if (v.has(VM_LOCKED)) {
            throw new ErrnoException(Errno.EINVAL, "MADV_REMOVE on a locked mapping: " + v);
        }
        if (v.file() == null) {
            // madvise_remove: with no file there is nothing to punch a hole in, and that is EINVAL before the
            // permission check is reached.
            throw new ErrnoException(Errno.EINVAL, "MADV_REMOVE needs a file or shared anonymous mapping: " + v);
        }
        if ((v.flags() & (VM_SHARED | VM_MAYWRITE)) != (VM_SHARED | VM_MAYWRITE)) {
            // madvise_remove asks vma_is_shared_maywrite (6.7+): whether the mapping could ever write the file,
            // not whether it may now, so read-only shared anonymous memory takes REMOVE.
            throw new ErrnoException(Errno.EACCES, "MADV_REMOVE needs a shared mapping of a file opened for writing: " + v);
        }
        Memory.zap(mm, from, to);
        // vfs_fallocate(FALLOC_FL_PUNCH_HOLE): the pages leave the file too, so a later touch finds a new, clean
        // page of zeros rather than the old dirty one. Other mappings of the file keep what they map: Linux's
        // unmap_mapping_range would take those as well, outside the range this call holds.
        v.file().cache().punchHole(v.pgoffOf(from), v.pgoffOf(to));
    }
}
