package dev.mmlab.api.pgtable;

import dev.mmlab.api.Linux;
import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

/**
 * Four levels of 512 entries (PGD, PUD, PMD, PTE) for a 48-bit space of 4 KiB pages.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The upper levels are {@link AtomicReferenceArray}s, allocated lock-free by
 *       CAS (racing allocators agree on one table) and never freed. Each PTE table's entries are guarded by its
 *       own lock ({@link PteTable#ptl()}, split PTL). A PTE table is freed by {@link #freeTableIfEmpty} when
 *       munmap leaves it unused: marked detached under its PTL, then unlinked from its PMD slot by CAS. The
 *       engine takes a PTL only through {@link #withPtl}, {@link #withAllocatedPtl}, {@link #forEachPtl} and
 *       {@link PteTable#withPtl}, which hide the freed-table check and the unlock.</li>
 *   <li><b>Lock order.</b> one PTL at a time here ({@link #forEachPtl} releases each before the next); the
 *       caller holds the strategy's lock covering the range, or validates under the PTL. Fork alone nests a
 *       parent PTL over a child PTL of another {@code PageTables}.</li>
 *   <li><b>What a reader may see mid-update.</b> Walks never block and may find a PTE table that a racing
 *       free has just detached; the helpers lock it, see it detached, and skip it ({@link #withPtl},
 *       {@link #forEachPtl}) or walk again ({@link #withAllocatedPtl}), so a body never runs on a freed
 *       table.</li>
 * </ul>
 */
public final class PageTables {
    private static final int BITS = 9;
    private static final int MASK = (1 << BITS) - 1;
    private static final int PMD_SHIFT = Linux.PAGE_SHIFT + BITS;
    private static final int PUD_SHIFT = PMD_SHIFT + BITS;
    private static final int PGD_SHIFT = PUD_SHIFT + BITS;

    private final AtomicReferenceArray<Object> pgd = new AtomicReferenceArray<>(PteTable.ENTRIES);

    /** The PTE table covering {@code addr}, or null if none was allocated. */
    public PteTable lookup(long addr) {
        @SuppressWarnings("unchecked")
        AtomicReferenceArray<Object> pud = (AtomicReferenceArray<Object>) pgd.get(index(addr, PGD_SHIFT));
        if (pud == null) {
            return null;
        }
        @SuppressWarnings("unchecked")
        AtomicReferenceArray<Object> pmd = (AtomicReferenceArray<Object>) pud.get(index(addr, PUD_SHIFT));
        if (pmd == null) {
            return null;
        }
        return (PteTable) pmd.get(index(addr, PMD_SHIFT));
    }

    /** The PTE table covering {@code addr}, allocating missing levels. The result may be detached by a racing free: lock it and check. */
    public PteTable allocate(long addr) {
        AtomicReferenceArray<Object> pud = level(pgd, index(addr, PGD_SHIFT));
        AtomicReferenceArray<Object> pmd = level(pud, index(addr, PUD_SHIFT));
        int i = index(addr, PMD_SHIFT);
        PteTable table = (PteTable) pmd.get(i);
        if (table == null) {
            Sched.cost(Cost.PTE_TABLE_ALLOC);
            PteTable fresh = new PteTable(addr & ~(Linux.PMD_SIZE - 1));
            table = pmd.compareAndExchange(i, null, fresh) == null ? fresh : (PteTable) pmd.get(i);
            if (table == null) {
                return allocate(addr);
            }
        }
        return table;
    }

    @SuppressWarnings("unchecked")
    private static AtomicReferenceArray<Object> level(AtomicReferenceArray<Object> parent, int i) {
        Object next = parent.get(i);
        if (next == null) {
            AtomicReferenceArray<Object> fresh = new AtomicReferenceArray<>(PteTable.ENTRIES);
            Object witness = parent.compareAndExchange(i, null, fresh);
            next = witness == null ? fresh : witness;
        }
        return (AtomicReferenceArray<Object>) next;
    }

    /** What a walk does with one PTE table, under its PTL, for the part {@code [from, to)} of the walked range. */
    @FunctionalInterface
    public interface TableVisitor {
        void visit(PteTable table, long from, long to);
    }

    /**
     * Run {@code body} under the PTL of the live PTE table covering {@code addr} and return its result; null,
     * without running it, when no table covers {@code addr} or it was freed. May block on the PTL.
     */
    public <T> T withPtl(long addr, Function<PteTable, T> body) {
        PteTable table = lookup(addr);
        if (table == null) {
            return null;
        }
        table.ptl().lock();
        try {
            return table.isDetached() ? null : body.apply(table);
        } finally {
            table.ptl().unlock();
        }
    }

    /**
     * Run {@code body} under the PTL of the PTE table covering {@code addr}, allocating it if missing; a table
     * freed before it was locked is walked again, so {@code body} always sees a live table. May block on the PTL.
     */
    public <T> T withAllocatedPtl(long addr, Function<PteTable, T> body) {
        while (true) {
            PteTable table = allocate(addr);
            table.ptl().lock();
            try {
                if (!table.isDetached()) {
                    return body.apply(table);
                }
            } finally {
                table.ptl().unlock();
            }
        }
    }

    /** Visit every live PTE table of {@code [start, end)} in address order, each under its PTL. May block on PTLs. */
    public void forEachPtl(long start, long end, TableVisitor visitor) {
        for (PteTable table : tables(start, end)) {
            table.ptl().lock();
            try {
                if (!table.isDetached()) {
                    visitor.visit(table, Math.max(start, table.base()), Math.min(end, table.base() + Linux.PMD_SIZE));
                }
            } finally {
                table.ptl().unlock();
            }
        }
    }

    /** The PTE tables that exist for {@code [start, end)}, in address order. */
    public List<PteTable> tables(long start, long end) {
        List<PteTable> out = new ArrayList<>();
        for (long a = start & ~(Linux.PMD_SIZE - 1); a < end && a >= 0; a += Linux.PMD_SIZE) {
            PteTable t = lookup(a);
            if (t != null) {
                out.add(t);
            }
        }
        return out;
    }

    /** Every PTE table, in address order. Sparse: walks only allocated upper levels. */
    public List<PteTable> allTables() {
        List<PteTable> out = new ArrayList<>();
        for (int g = 0; g < PteTable.ENTRIES; g++) {
            @SuppressWarnings("unchecked")
            AtomicReferenceArray<Object> pud = (AtomicReferenceArray<Object>) pgd.get(g);
            if (pud == null) {
                continue;
            }
            for (int u = 0; u < PteTable.ENTRIES; u++) {
                @SuppressWarnings("unchecked")
                AtomicReferenceArray<Object> pmd = (AtomicReferenceArray<Object>) pud.get(u);
                if (pmd == null) {
                    continue;
                }
                for (int m = 0; m < PteTable.ENTRIES; m++) {
                    Object t = pmd.get(m);
                    if (t != null) {
                        out.add((PteTable) t);
                    }
                }
            }
        }
        return out;
    }

    /**
     * {@code free_pgtables}: free {@code table} if it maps nothing. Caller guarantees no VMA overlaps the
     * table's span (so no fault can populate it again except through a stale walk, which the detached flag
     * catches). Returns whether it was freed.
     */
    public boolean freeTableIfEmpty(PteTable table) {
        boolean emptied = table.withPtl(t -> {
            if (t.isDetached() || t.present() != 0) {
                return false;
            }
            t.markDetached();
            return true;
        });
        if (!emptied) {
            return false;
        }
        Sched.cost(Cost.PTE_TABLE_FREE);
        long addr = table.base();
        @SuppressWarnings("unchecked")
        AtomicReferenceArray<Object> pud = (AtomicReferenceArray<Object>) pgd.get(index(addr, PGD_SHIFT));
        @SuppressWarnings("unchecked")
        AtomicReferenceArray<Object> pmd = (AtomicReferenceArray<Object>) pud.get(index(addr, PUD_SHIFT));
        pmd.compareAndSet(index(addr, PMD_SHIFT), table, null);
        return true;
    }

    private static int index(long addr, int shift) {
        return (int) ((addr >>> shift) & MASK);
    }
}
