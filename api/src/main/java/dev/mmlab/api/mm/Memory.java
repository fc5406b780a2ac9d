package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.PAGE_MASK;
import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PMD_SIZE;
import static dev.mmlab.api.Linux.TASK_SIZE;

import dev.mmlab.api.Access;
import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;

/**
 * Page-table work ({@code mm/memory.c}): the fault entry, zapping a range, freeing the tables nothing maps any
 * more, moving PTEs (mremap's {@code move_page_tables}), and the CPU's and a remote reader's access to a page.
 * Every PTE is read and written under its table's PTL; callers hold what the strategy requires for the range
 * (a write guard to zap, free or move; nothing for an access, which faults through the strategy when it must).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The caller's guard protects the range (a write guard to zap, free or move);
 *       each PTE is read and written under its table's PTL. A CPU access takes only the PTL, and faults
 *       through the strategy when the PTE does not allow it.</li>
 *   <li><b>Lock order.</b> the caller's guard &rarr; one PTL at a time (a PTE move takes the source's, drops it,
 *       then takes the destination's); no PTL is held while faulting.</li>
 * </ul>
 */
final class Memory {
    private Memory() {}

    /** {@code zap_page_range}: clear every PTE in {@code [start, end)}, dropping the pages' references. */
    static void zap(MmStruct mm, long start, long end) {
        mm.pageTables.forEachPtl(start, end, (table, from, to) -> {
            if (table.present() == 0) {
                return;
            }
            int zapped = 0;
            for (long a = from; a < to; a += PAGE_SIZE) {
                Page p = table.clear(a);
                if (p != null) {
                    p.put();
                    zapped++;
                }
            }
            Sched.cost(Cost.ZAP_PAGE, zapped);
        });
    }

    /** {@code free_pgtables}: free PTE tables in {@code [start, end)} that no VMA covers any more. */
    static void freeTables(MmStruct mm, long start, long end) {
        for (PteTable table : mm.pageTables.tables(start, end)) {
            if (mm.tree.overlapping(table.base(), table.base() + PMD_SIZE).isEmpty()) {
                mm.pageTables.freeTableIfEmpty(table);
            }
        }
    }

    /**
     * {@code move_page_tables}: move the PTEs of {@code [from, from + len)} to {@code to}, page by page, each
     * under its source PTL and then its destination PTL (never both). Caller holds a write guard over both
     * ranges and has isolated the source from faults.
     */
    static void movePtes(MmStruct mm, long from, long to, long len) {
        for (long off = 0; off < len; off += PAGE_SIZE) {
            long src = from + off;
            if (mm.pageTables.lookup(src) == null) {
                off = (src | (PMD_SIZE - 1)) - from + 1 - PAGE_SIZE;
                continue;
            }
            long[] bits = new long[1];
            Page page = mm.pageTables.withPtl(src, table -> {
                Page p = table.page(src);
                if (p != null) {
                    bits[0] = table.bits(src);
                    table.clear(src);
                }
                return p;
            });
            if (page != null) {
                long dst = to + off;
                mm.pageTables.withAllocatedPtl(dst, table -> {
                    Page old = table.clear(dst);
                    if (old != null) {
                        old.put();
                    }
                    table.install(dst, page, (int) bits[0]);
                    return null;
                });
            }
        }
    }

    /**
     * A page fault at {@code addr} from this thread, through the strategy's fault handler. A fault just below a
     * growsdown stack VMA expands it (under the write lock, as Linux 6.5+ does) and faults again.
     */
    static FaultOutcome fault(MmStruct mm, long addr, Access access) {
        LockTally tally = LockTally.operation();
        FaultCore core = mm.faultEngine.tallying(tally);
        try {
            FaultOutcome outcome = mm.faultHandler.handleFault(core, addr, access);
            if (outcome == FaultOutcome.SEGV && Mmap.expandStack(mm, addr)) {
                // expand_stack took the mmap write lock (Locking leaves a fault's acquisitions to this tally).
                tally.tried(CoarseHold.WRITE, false);
                outcome = mm.faultHandler.handleFault(core, addr, access);
            }
            mm.counters.increment("fault." + outcome.name());
            return outcome;
        } finally {
            tally.record(mm.lockUse, OpKind.FAULT);
        }
    }

    /**
     * The CPU reads ({@code access == READ}) or writes {@code value} to the content word of the page at
     * {@code addr}, faulting through the strategy as needed. Returns the word read or written.
     *
     * @throws MemoryAccessException when the fault fails (SIGSEGV, SIGBUS, out of memory)
     */
    static long access(MmStruct mm, long addr, Access access, long value) {
        if (addr < 0 || addr >= TASK_SIZE) {
            throw new MemoryAccessException(FaultOutcome.SEGV, addr, access);
        }
        long page = addr & PAGE_MASK;
        int needed = access == Access.WRITE ? PteTable.WRITE : PteTable.READ;
        while (true) {
            Long done = mm.pageTables.withPtl(page, table -> {
                Page p = table.page(page);
                if (p == null || (table.bits(page) & needed) == 0) {
                    return null;
                }
                if (access == Access.WRITE) {
                    p.setContent(value);
                    table.setBits(page, table.bits(page) | PteTable.DIRTY | PteTable.ACCESSED);
                    return value;
                }
                return p.content();
            });
            if (done != null) {
                return done;
            }
            FaultOutcome outcome = fault(mm, page, access);
            if (outcome != FaultOutcome.MAPPED) {
                throw new MemoryAccessException(outcome, addr, access);
            }
        }
    }

    /**
     * {@code access_remote_vm} for one page: read the content word at {@code addr} for a caller holding
     * {@code guard} over it, faulting it in under the guard if needed. Null when it cannot be read.
     */
    static Long readRemote(MmStruct mm, MmLockGuard guard, long addr) {
        for (int i = 0; i < 3; i++) {
            Long word = mm.pageTables.withPtl(addr, table -> {
                Page p = table.page(addr);
                return p == null ? null : p.content();
            });
            if (word != null) {
                return word;
            }
            if (mm.faultHandler.handleFaultHolding(mm.faultEngine, guard, addr, Access.READ) != FaultOutcome.MAPPED) {
                return null;
            }
        }
        return null;
    }
}
