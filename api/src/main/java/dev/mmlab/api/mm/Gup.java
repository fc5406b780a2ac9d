package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.Access;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.pgtable.PteTable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * {@code mm/gup.c}: populating ranges ({@code __mm_populate}, {@code faultin_page_range}) and pinning pages
 * ({@code get_user_pages}).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Populate runs either under a guard the caller holds (through the strategy's
 *       {@code handleFaultHolding}) or, with no guard, through the ordinary fault path, each fault taking the
 *       strategy's locks itself; get_user_pages holds the read lock over its range for the whole walk and
 *       cannot drop it. A PTE is read, and a page pinned, under its PTL. Pins are counted in
 *       {@link MmStruct#pins}, one page at a time with atomic map operations, so a pin racing the last unpin of
 *       the same page is never lost.</li>
 *   <li><b>Lock order.</b> the strategy's guard (read, over the range) &rarr; one PTL &rarr; the pin map's entry
 *       for the page (a pin is counted inside the PTL section that found the page). An unpin takes no PTL.</li>
 * </ul>
 */
final class Gup {
    private Gup() {}

    /**
     * {@code __mm_populate} with {@code ignore_errors == 0}: fault in every page of {@code [start, end)}, skipping
     * holes, VM_IO/VM_PFNMAP and VM_LOCKONFAULT VMAs; a PROT_NONE VMA ({@code populate_vma_page_range}:
     * -EFAULT) or a failed fault ends it. With {@code holding} null the faults take the strategy's locks
     * themselves; otherwise the caller holds {@code holding} over the range.
     */
    static FaultOutcome populate(MmStruct mm, MmLockGuard holding, long start, long end) {
        return populateWith(mm, holding, start, end, Gup::populateAccess, true);
    }

    /** {@code mm_populate} ({@code ignore_errors == 1}): as {@link #populate}, going on at the next VMA after a failure. */
    static void populateIgnoringErrors(MmStruct mm, long start, long end) {
        long addr = start;
        while (addr < end) {
            Vma v = mm.tree.findNext(addr);
            if (v == null || v.start() >= end) {
                return;
            }
            long stop = Math.min(end, v.end());
            populateWith(mm, null, Math.max(addr, v.start()), stop, Gup::populateAccess, true);
            addr = stop;
        }
    }

    /** Writable private mappings are touched with a write fault to break COW; the rest with a read. */
    private static Access populateAccess(Vma v) {
        return (v.flags() & (VM_WRITE | VM_SHARED)) == VM_WRITE ? Access.WRITE : Access.READ;
    }

    /** The populate walk; {@code mlockRules} skips VM_LOCKONFAULT VMAs as {@code __mm_populate} does. */
    static FaultOutcome populateWith(MmStruct mm, MmLockGuard holding, long start, long end,
            Function<Vma, Access> accessOf, boolean mlockRules) {
        mm.counters.increment("populate.calls");
        long addr = start;
        while (addr < end) {
            Vma v = mm.tree.findNext(addr);
            if (v == null || v.start() >= end) {
                break;
            }
            addr = Math.max(addr, v.start());
            if (v.has(VM_IO | VM_PFNMAP) || (mlockRules && v.has(VM_LOCKONFAULT))) {
                addr = v.end();
                continue;
            }
            if ((v.flags() & VM_ACCESS_FLAGS) == 0) {
                return FaultOutcome.ACCESS;
            }
            Access access = accessOf.apply(v);
            long stop = Math.min(end, v.end());
            for (; addr < stop; addr += PAGE_SIZE) {
                if (isMapped(mm, addr, access)) {
                    continue;
                }
                FaultOutcome outcome = holding == null ? Memory.fault(mm, addr, access)
                        : mm.faultHandler.handleFaultHolding(mm.faultEngine, holding, addr, access);
                if (outcome != FaultOutcome.MAPPED) {
                    return outcome;
                }
            }
        }
        return FaultOutcome.MAPPED;
    }

    /** Whether {@code addr} is mapped for {@code access}; a page found for a write is touched as {@link #touch} says. */
    private static boolean isMapped(MmStruct mm, long addr, Access access) {
        int needed = access == Access.WRITE ? PteTable.WRITE : PteTable.READ;
        Boolean mapped = mm.pageTables.withPtl(addr, table -> {
            if (table.page(addr) == null || (table.bits(addr) & needed) == 0) {
                return false;
            }
            touch(table, addr, access);
            return true;
        });
        return mapped != null && mapped;
    }

    /**
     * {@code follow_page_pte} with FOLL_TOUCH: a write lookup of a present page marks it dirty (Linux marks the
     * folio; the model's anonymous pages keep dirtiness in the PTE), so a page MADV_FREE made clean is no longer
     * lazily freeable once populate or get_user_pages writes through it. Caller holds the PTL.
     */
    private static void touch(PteTable table, long addr, Access access) {
        if (access == Access.WRITE) {
            table.setBits(addr, table.bits(addr) | PteTable.DIRTY | PteTable.ACCESSED);
        }
    }

    /** {@code get_user_pages}; see {@link Mm#getUserPages}. */
    static List<Page> getUserPages(MmStruct mm, long start, int nrPages, boolean write) {
        if (!isPageAligned(start) || nrPages <= 0 || start < 0 || start > TASK_SIZE - (long) nrPages * PAGE_SIZE) {
            throw ErrnoException.of(Errno.EINVAL, "get_user_pages(%#x, %d): unaligned or out of range", start, nrPages);
        }
        long end = start + (long) nrPages * PAGE_SIZE;
        Access access = write ? Access.WRITE : Access.READ;
        return Locking.locked(mm, LockIntent.of(OpKind.GUP, LockIntent.Mode.READ, start, end), guard -> {
            Locking.requireCovers(guard, start, end, false);
            LockNeed need = LockNeed.FINE;
            for (Vma v : mm.tree.overlapping(start, end)) {
                need = Locking.max(need, v.lockNeed(VmOpsCallback.FAULT));
            }
            Locking.requireCoarse(guard, need);
            List<Page> pinned = new ArrayList<>();
            for (long a = start; a < end; a += PAGE_SIZE) {
                Vma v = mm.tree.find(a);
                if (v == null || !v.allows(access) || v.has(VM_IO | VM_PFNMAP)) {
                    break;
                }
                Page p = pinIfMapped(mm, a, access);
                if (p == null) {
                    FaultOutcome outcome = mm.faultHandler.handleFaultHolding(mm.faultEngine, guard, a, access);
                    p = outcome == FaultOutcome.MAPPED ? pinIfMapped(mm, a, access) : null;
                }
                if (p == null) {
                    break;
                }
                pinned.add(p);
            }
            if (pinned.isEmpty()) {
                throw ErrnoException.of(Errno.EFAULT, "get_user_pages: %#x cannot be pinned for %s", start, access);
            }
            return pinned;
        });
    }

    private static Page pinIfMapped(MmStruct mm, long addr, Access access) {
        int needed = access == Access.WRITE ? PteTable.WRITE : PteTable.READ;
        return mm.pageTables.withPtl(addr, table -> {
            Page p = table.page(addr);
            if (p == null || (table.bits(addr) & needed) == 0) {
                return null;
            }
            touch(table, addr, access);
            p.get();
            mm.pins.compute(p, (k, n) -> {
                AtomicInteger count = n == null ? new AtomicInteger() : n;
                count.incrementAndGet();
                return count;
            });
            return p;
        });
    }

    /** {@code unpin_user_pages}; see {@link Mm#unpinUserPages}. */
    static void unpinUserPages(MmStruct mm, List<Page> pages) {
        for (Page p : pages) {
            boolean[] pinned = {false};
            // One atomic step per page: a pin racing the last unpin is never lost.
            mm.pins.computeIfPresent(p, (k, n) -> {
                pinned[0] = true;
                return n.decrementAndGet() == 0 ? null : n;
            });
            if (!pinned[0]) {
                throw new IllegalStateException("unpin of a page not pinned by this mm: " + p);
            }
            p.put();
        }
    }

    /** get_user_pages pins currently held on {@code page} through this mm (0 when none). Never blocks. */
    static int pinCount(MmStruct mm, Page page) {
        AtomicInteger n = mm.pins.get(page);
        return n == null ? 0 : Math.max(0, n.get());
    }
}
