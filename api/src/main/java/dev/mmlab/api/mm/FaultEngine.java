package dev.mmlab.api.mm;

import dev.mmlab.api.Access;
import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultAttempt;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmFlags;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mem.PageAllocator;
import dev.mmlab.api.pgtable.PageTables;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.stats.Counters;
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
 * that needs a lock the attempt may lack asks first and returns RETRY with no side effect; a prepared page
 * that cannot be committed is released, so nothing leaks.
 */
final class FaultEngine implements FaultCore {
    private static final Logger LOG = LoggerFactory.getLogger(FaultEngine.class);

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

    @Override
    public FaultOutcome fault(FaultAttempt attempt, Vma vma, long addr, Access access) {
        long page = addr & Linux.PAGE_MASK;
        if (vma == null || !vma.contains(page)) {
            return FaultOutcome.SEGV;
        }
        if (!vma.allows(access)) {
            return FaultOutcome.ACCESS;
        }
        while (true) {
            // Under the PTL, a present PTE is a spurious fault, a protection upgrade or a reusable page (done
            // here, an outcome), or a page to copy (the page itself); no PTE is null.
            Object present = tables.withAllocatedPtl(page, table -> {
                Page existing = table.page(page);
                if (existing == null) {
                    return null;
                }
                FaultOutcome done = upgradeInPlace(attempt, vma, table, page, existing, table.bits(page), access);
                return done != null ? done : existing;
            });
            if (present instanceof FaultOutcome) {
                return (FaultOutcome) present;
            }
            FaultOutcome outcome = present == null
                    ? faultMissing(attempt, vma, page, access)
                    : copyOnWrite(attempt, vma, page, (Page) present);
            if (outcome != null) {
                return outcome;
            }
            // Lost a race for the PTE: look again.
        }
    }

    /**
     * A PTE is present: a spurious fault, a protection upgrade, or a write-protect fault that can reuse the
     * page. Returns null when a COW copy is needed. Caller holds the PTL.
     */
    private FaultOutcome upgradeInPlace(FaultAttempt attempt, Vma vma, PteTable table, long page, Page existing,
            int bits, Access access) {
        boolean write = access == Access.WRITE;
        if (!write && (bits & PteTable.READ) != 0 || write && (bits & PteTable.WRITE) != 0) {
            counters.increment("fault.spurious");
            return FaultOutcome.MAPPED;
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
            return FaultOutcome.RETRY;
        }
        table.setBits(page, upgraded);
        counters.increment("fault.upgrade");
        return FaultOutcome.MAPPED;
    }

    /** Private write to a page others share (zero, file or forked anon page): copy it. Null to look again. */
    private FaultOutcome copyOnWrite(FaultAttempt attempt, Vma vma, long page, Page existing) {
        if (vma.anon() == null) {
            if (!attempt.mayPrepareAnon()) {
                return FaultOutcome.RETRY;
            }
            vma.prepareAnon(mergeableAnon(vma));
        }
        Page copy = allocator.allocateAnon(existing.content());
        if (copy == null) {
            counters.increment("fault.oom");
            return FaultOutcome.OOM;
        }
        FaultOutcome copied = tables.withAllocatedPtl(page, table -> {
            if (table.page(page) != existing) {
                copy.put();
                return null;
            }
            if (!attempt.validate(table)) {
                copy.put();
                return FaultOutcome.RETRY;
            }
            // Copy again under the PTL: the content cannot change now that every writer sees a read-only PTE.
            copy.setContent(existing.content());
            table.replace(page, copy, PteTable.READ | PteTable.WRITE | PteTable.DIRTY | PteTable.ACCESSED).put();
            return FaultOutcome.MAPPED;
        });
        if (copied != FaultOutcome.MAPPED) {
            return copied;
        }
        counters.increment("fault.cow");
        return FaultOutcome.MAPPED;
    }

    /** No PTE yet. Returns null when another fault installed one first. */
    private FaultOutcome faultMissing(FaultAttempt attempt, Vma vma, long page, Access access) {
        boolean write = access == Access.WRITE;
        if (vma.ops() != null) {
            return driverFault(attempt, vma, page, access);
        }
        BackingFile file = vma.file();
        if (file == null) {
            if (!write) {
                return commit(attempt, page, Page.ZERO, PteTable.READ | PteTable.ACCESSED, "fault.zero");
            }
            if (vma.anon() == null) {
                if (!attempt.mayPrepareAnon()) {
                    return FaultOutcome.RETRY;
                }
                vma.prepareAnon(mergeableAnon(vma));
            }
            Page fresh = allocator.allocateAnon(0);
            if (fresh == null) {
                counters.increment("fault.oom");
                return FaultOutcome.OOM;
            }
            return commit(attempt, page, fresh, PteTable.READ | PteTable.WRITE | PteTable.DIRTY | PteTable.ACCESSED,
                    "fault.anon");
        }
        long index = vma.pgoffOf(page);
        if (!file.isShmem() && index >= Linux.pages(Linux.pageAlign(file.sizeBytes()))) {
            return FaultOutcome.BUS;
        }
        boolean cow = write && !vma.isShared();
        if (cow && vma.anon() == null && !attempt.mayPrepareAnon()) {
            return FaultOutcome.RETRY;
        }
        Page cached = file.cache().find(index);
        String kind = "fault.minor";
        if (cached == null) {
            if (attempt.dropForIo()) {
                // Linux's VM_FAULT_RETRY: wait for the read without the lock, then start over.
                try {
                    file.cache().read(index).put();
                } catch (ErrnoException e) {
                    return outcomeOf(e);
                }
                counters.increment("fault.retry_io");
                return FaultOutcome.RETRY;
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
            return commit(attempt, page, cached, bits, kind);
        }
        if (vma.anon() == null) {
            vma.prepareAnon(mergeableAnon(vma));
        }
        Page copy = allocator.allocateAnon(cached.content());
        cached.put();
        if (copy == null) {
            counters.increment("fault.oom");
            return FaultOutcome.OOM;
        }
        return commit(attempt, page, copy, PteTable.READ | PteTable.WRITE | PteTable.DIRTY | PteTable.ACCESSED,
                "fault.cow_file");
    }

    private FaultOutcome driverFault(FaultAttempt attempt, Vma vma, long page, Access access) {
        LockNeed need = vma.lockNeed(VmOpsCallback.FAULT);
        if (!attempt.holds(need)) {
            // The strategy falls back to a coarser lock because of this driver: count it per driver.
            counters.increment("fault.driver_fallback." + vma.ops().name());
            return FaultOutcome.RETRY;
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
            return FaultOutcome.BUS;
        }
        if (result == null || result.outcome() != FaultOutcome.MAPPED) {
            return result == null ? FaultOutcome.BUS : result.outcome();
        }
        boolean writable = access == Access.WRITE && vma.isShared();
        int bits = PteTable.READ | PteTable.ACCESSED | (writable ? PteTable.WRITE | PteTable.DIRTY : 0);
        return commit(attempt, page, result.page(), bits, "fault.driver");
    }

    /** Install {@code prepared} at {@code page} under the PTL after validation; releases it on failure. */
    private FaultOutcome commit(FaultAttempt attempt, long page, Page prepared, int bits, String counter) {
        FaultOutcome outcome = tables.withAllocatedPtl(page, table -> {
            if (!attempt.validate(table)) {
                prepared.put();
                return FaultOutcome.RETRY;
            }
            if (table.page(page) != null) {
                prepared.put();
                return null;
            }
            table.install(page, prepared, bits);
            return FaultOutcome.MAPPED;
        });
        if (outcome == FaultOutcome.MAPPED) {
            counters.increment(counter);
        }
        return outcome;
    }

    private FaultOutcome outcomeOf(ErrnoException e) {
        switch (e.errno()) {
            case ENOMEM:
                counters.increment("fault.oom");
                return FaultOutcome.OOM;
            default:
                counters.increment("fault.io_error");
                return FaultOutcome.BUS;
        }
    }

    private AnonIdentity mergeableAnon(Vma vma) {
        return VmaMerge.mergeableAnon(tree, vma);
    }
}
