package dev.mmlab.api.mm;

import dev.mmlab.api.Access;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultAttempt;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FaultResult;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.RetryReason;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mem.PageAllocator;
import dev.mmlab.api.pgtable.PageTables;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.stats.Counters;
import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's fault work ({@code handle_mm_fault} and below), shared by every strategy. The strategy's
 * {@link dev.mmlab.api.FaultHandler} finds the VMA under its own protocol and hands it here with an
 * {@link FaultAttempt} that answers for the locks it holds.
 *
 * <p>Order of work: access check; an existing PTE (spurious fault, protection upgrade, write-protect fault
 * with reuse or COW copy); otherwise get a page (zero page, new anonymous page, page-cache page, COW copy of
 * a file page, driver page), then lock the PTE table, ask the attempt to validate, and install. Every step
 * that needs a lock the attempt may lack asks first and returns a retry, with its {@link RetryReason} and no
 * side effect; a prepared page that cannot be committed is released, so nothing leaks.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The VMA is the strategy's: the attempt answers for it (it holds a lock that
 *       keeps it, or validates at commit). Every PTE is read and changed under its table's PTL; a table freed
 *       under the fault is walked again. A page prepared outside the PTL is committed only if the slot is still
 *       empty and the attempt validates, else released.</li>
 *   <li><b>Lock order.</b> whatever the strategy holds &rarr; one PTL, never two; the page cache and the
 *       allocator are called with no PTL held, and a driver's fault callback too.</li>
 * </ul>
 */
final class FaultEngine implements FaultCore {
    private static final Logger LOG = LoggerFactory.getLogger(FaultEngine.class);

    private static final FaultResult MAPPED = FaultResult.of(FaultOutcome.MAPPED);
    private static final FaultResult SEGV = FaultResult.of(FaultOutcome.SEGV);
    private static final FaultResult ACCESS = FaultResult.of(FaultOutcome.ACCESS);
    private static final FaultResult BUS = FaultResult.of(FaultOutcome.BUS);
    private static final FaultResult OOM = FaultResult.of(FaultOutcome.OOM);
    private static final FaultResult NEEDS_LOCK = FaultResult.retry(RetryReason.NEEDS_LOCK);
    private static final FaultResult NEEDS_ANON = FaultResult.retry(RetryReason.NEEDS_ANON);
    private static final FaultResult RELEASED_FOR_IO = FaultResult.retry(RetryReason.RELEASED_FOR_IO);
    private static final FaultResult INVALIDATED = FaultResult.retry(RetryReason.INVALIDATED);

    private final MmStruct mm;
    private final VmaTree tree;
    private final PageTables tables;
    private final PageAllocator allocator;
    private final Counters counters;

    /** Called from {@link MmStruct}'s constructor, once the strategy's parts exist. */
    FaultEngine(MmStruct mm) {
        this.mm = mm;
        this.tree = mm.tree;
        this.tables = mm.pageTables;
        this.allocator = mm.allocator();
        this.counters = mm.counters;
    }

    @Override
    public VmaTree tree() {
        return tree;
    }

    /**
     * This core for one fault, telling {@code tally} what each attempt handed to it holds: how the engine learns
     * how a fault was locked without the strategy saying so. One small object per fault; used by its thread.
     */
    FaultCore tallying(LockTally tally) {
        return new FaultCore() {
            @Override
            public VmaTree tree() {
                return tree;
            }

            @Override
            public FaultResult fault(FaultAttempt attempt, Vma vma, long addr, Access access) {
                tally.tried(attempt);
                return FaultEngine.this.fault(attempt, vma, addr, access);
            }
        };
    }

    @Override
    public FaultResult fault(FaultAttempt attempt, Vma vma, long addr, Access access) {
        long page = addr & Linux.PAGE_MASK;
        if (vma == null || !vma.contains(page)) {
            return SEGV;
        }
        if (!vma.allows(access)) {
            return ACCESS;
        }
        while (true) {
            // Under the PTL, a present PTE is a spurious fault, a protection upgrade or a reusable page (done
            // here, an outcome), or a page to copy (the page itself); no PTE is null.
            Object present = tables.withAllocatedPtl(page, table -> {
                Page existing = table.page(page);
                if (existing == null) {
                    return null;
                }
                FaultResult done = upgradeInPlace(attempt, vma, table, page, existing, table.bits(page), access);
                return done != null ? done : existing;
            });
            if (present instanceof FaultResult) {
                return (FaultResult) present;
            }
            FaultResult result = present == null
                    ? faultMissing(attempt, vma, page, access)
                    : copyOnWrite(attempt, vma, page, (Page) present);
            if (result != null) {
                return result;
            }
            // Lost a race for the PTE: look again.
        }
    }

    /**
     * A PTE is present: a spurious fault, a protection upgrade, or a write-protect fault that can reuse the
     * page. Returns null when a COW copy is needed. Caller holds the PTL.
     */
    private FaultResult upgradeInPlace(FaultAttempt attempt, Vma vma, PteTable table, long page, Page existing,
            int bits, Access access) {
        boolean write = access == Access.WRITE;
        if (!write && (bits & PteTable.READ) != 0 || write && (bits & PteTable.WRITE) != 0) {
            counters.increment("fault.spurious");
            Sched.cost(Cost.FAULT_UPGRADE);
            return MAPPED;
        }
        int upgraded;
        if (!write) {
            upgraded = bits | PteTable.READ | PteTable.ACCESSED;
        } else if (vma.isShared() || existing.kind() == Page.Kind.ANON && existing.refcount() == 1 + Gup.pinCount(mm, existing)) {
            // A page pinned by get_user_pages is still exclusive to this PTE (PageAnonExclusive, 5.19):
            // copying it would leave the pin pointing at a page the process no longer maps.
            upgraded = bits | PteTable.READ | PteTable.WRITE | PteTable.DIRTY | PteTable.ACCESSED;
            if (!vma.isShared()) {
                counters.increment("fault.reuse");
            }
        } else {
            return null;
        }
        if (!attempt.validate(table)) {
            return INVALIDATED;
        }
        table.setBits(page, upgraded);
        counters.increment("fault.upgrade");
        Sched.cost(Cost.FAULT_UPGRADE);
        return MAPPED;
    }

    /** Private write to a page others share (zero, file or forked anon page): copy it. Null to look again. */
    private FaultResult copyOnWrite(FaultAttempt attempt, Vma vma, long page, Page existing) {
        if (!prepareAnon(attempt, vma)) {
            return NEEDS_ANON;
        }
        Page copy = allocator.allocateAnon(existing.content());
        if (copy == null) {
            counters.increment("fault.oom");
            return OOM;
        }
        FaultResult copied = tables.withAllocatedPtl(page, table -> {
            if (table.page(page) != existing) {
                copy.put();
                return null;
            }
            if (!attempt.validate(table)) {
                copy.put();
                return INVALIDATED;
            }
            // Copy again under the PTL: the content cannot change now that every writer sees a read-only PTE.
            copy.setContent(existing.content());
            table.replace(page, copy, PteTable.READ | PteTable.WRITE | PteTable.DIRTY | PteTable.ACCESSED).put();
            return MAPPED;
        });
        if (copied == MAPPED) {
            counters.increment("fault.cow");
            Sched.cost(Cost.FAULT_COW);
        }
        return copied;
    }

    /** No PTE yet. Returns null when another fault installed one first. */
    private FaultResult faultMissing(FaultAttempt attempt, Vma vma, long page, Access access) {
        boolean write = access == Access.WRITE;
        if (vma.ops() != null) {
            return driverFault(attempt, vma, page, access);
        }
        BackingFile file = vma.file();
        if (file == null) {
            if (!write) {
                return commit(attempt, page, Page.ZERO, PteTable.READ | PteTable.ACCESSED, "fault.zero", Cost.FAULT_ZERO);
            }
            if (!prepareAnon(attempt, vma)) {
                return NEEDS_ANON;
            }
            Page fresh = allocator.allocateAnon(0);
            if (fresh == null) {
                counters.increment("fault.oom");
                return OOM;
            }
            return commit(attempt, page, fresh, PteTable.READ | PteTable.WRITE | PteTable.DIRTY | PteTable.ACCESSED,
                    "fault.anon", Cost.FAULT_ANON);
        }
        long index = vma.pgoffOf(page);
        // filemap_fault and shmem_fault alike: a page past the end of the object is SIGBUS. A shmem object keeps
        // the size of the mmap that made it, so pages that mremap grows a shared anonymous mapping by are past it
        // (shmem_get_folio_gfp: -EINVAL for SGP_CACHE beyond i_size).
        if (index >= Linux.pages(Linux.pageAlign(file.sizeBytes()))) {
            return BUS;
        }
        boolean cow = write && !vma.isShared();
        // do_cow_fault: anon_vma_prepare comes before the page is read.
        if (cow && !prepareAnon(attempt, vma)) {
            return NEEDS_ANON;
        }
        Page cached = file.cache().find(index);
        String kind = "fault.minor";
        if (cached == null) {
            if (attempt.releaseForIo()) {
                // Linux's VM_FAULT_RETRY: wait for the read without the lock, then start over.
                try {
                    file.cache().read(index).put();
                } catch (ErrnoException e) {
                    return outcomeOf(e);
                }
                counters.increment("fault.retry_io");
                return RELEASED_FOR_IO;
            }
            try {
                cached = file.cache().read(index);
            } catch (ErrnoException e) {
                return outcomeOf(e);
            }
            kind = "fault.major";
        }
        if (!cow) {
            int bits = PteTable.READ | PteTable.ACCESSED | (write ? PteTable.WRITE | PteTable.DIRTY : 0);
            return commit(attempt, page, cached, bits, kind, Cost.FAULT_FILE);
        }
        Page copy = allocator.allocateAnon(cached.content());
        cached.put();
        if (copy == null) {
            counters.increment("fault.oom");
            return OOM;
        }
        return commit(attempt, page, copy, PteTable.READ | PteTable.WRITE | PteTable.DIRTY | PteTable.ACCESSED,
                "fault.cow_file", Cost.FAULT_COW);
    }

    private FaultResult driverFault(FaultAttempt attempt, Vma vma, long page, Access access) {
        LockNeed need = vma.lockNeed(VmOpsCallback.FAULT);
        if (!attempt.holds(need)) {
            // The strategy falls back to a coarser lock because of this driver: count it per driver.
            counters.increment("fault.driver_fallback." + vma.ops().name());
            return NEEDS_LOCK;
        }
        VmFault result;
        try {
            result = vma.ops().fault(VmaCommit.driverContext(mm, VmOpsCallback.FAULT, attempt::holds, vma), vma, page, access);
        } catch (RuntimeException e) {
            if (e instanceof IllegalStateException && mm.config.checking()) {
                throw e;
            }
            LOG.warn("driver {} fault at {} threw; the fault gets SIGBUS", vma.ops().name(), Linux.hex(page), e);
            counters.increment("fault.driver_error");
            return BUS;
        }
        if (result == null || result.outcome() != FaultOutcome.MAPPED) {
            return result == null ? BUS : FaultResult.of(result.outcome());
        }
        boolean writable = access == Access.WRITE && vma.isShared();
        int bits = PteTable.READ | PteTable.ACCESSED | (writable ? PteTable.WRITE | PteTable.DIRTY : 0);
        return commit(attempt, page, result.page(), bits, "fault.driver", Cost.FAULT_DRIVER);
    }

    /**
     * Install {@code prepared} at {@code page} under the PTL after validation; releases it on failure. The
     * work that prepared it ({@code cost}) was done either way.
     */
    private FaultResult commit(FaultAttempt attempt, long page, Page prepared, int bits, String counter, Cost cost) {
        Sched.cost(cost);
        FaultResult result = tables.withAllocatedPtl(page, table -> {
            if (!attempt.validate(table)) {
                prepared.put();
                return INVALIDATED;
            }
            if (table.page(page) != null) {
                prepared.put();
                return null;
            }
            table.install(page, prepared, bits);
            return MAPPED;
        });
        if (result == MAPPED) {
            counters.increment(counter);
        }
        return result;
    }

    private FaultResult outcomeOf(ErrnoException e) {
        switch (e.errno()) {
            case ENOMEM:
                counters.increment("fault.oom");
                return OOM;
            default:
                counters.increment("fault.io_error");
                return BUS;
        }
    }

    /** {@code anon_vma_prepare} through the attempt, when {@code vma} has no anon identity yet. */
    private boolean prepareAnon(FaultAttempt attempt, Vma vma) {
        return vma.anon() != null || attempt.prepareAnon(vma, () -> VmaMerge.mergeableAnon(tree, vma));
    }
}
