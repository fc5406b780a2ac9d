package dev.mmlab.speculative;

import dev.mmlab.api.Linux;
import dev.mmlab.api.VmFlags;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaLockState;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.pgtable.PageTables;
import dev.mmlab.api.pgtable.PteTable;
import java.util.List;

/**
 * The race both sequence-validation tests run, with the real tree and page tables: a writer replaces the one
 * VMA at {@link #ADDR} (publish the new snapshot, detach the old VMA, zap its PTE under the PTL if a table
 * exists) while a speculative fault looks the VMA up with no lock and commits a PTE under the PTL only if its
 * validation still holds. The PTE's bits say which VMA it was committed through: 1 the retired one, 2 the new
 * one. The tests differ only in the sequence count they bracket this with; jcstress takes {@code @Actor} and
 * {@code @Arbiter} methods from the annotated class alone, so each test declares them and calls in here.
 */
final class PublicationRace {
    static final long ADDR = 0x100000000L;
    private static final long FLAGS = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE;

    private final SnapshotVmaTree tree = new SnapshotVmaTree();
    private final PageTables tables = new PageTables();
    private final Vma old;
    private final Vma fresh;

    /** The VMA at {@link #ADDR} published, and its replacement; each with {@code lockState} of its own. */
    PublicationRace(VmaLockState oldState, VmaLockState freshState) {
        old = new Vma(ADDR, ADDR + Linux.PAGE_SIZE, FLAGS, ADDR >>> Linux.PAGE_SHIFT, null, null, null, oldState);
        fresh = new Vma(ADDR, ADDR + Linux.PAGE_SIZE, FLAGS | VmFlags.VM_EXEC, ADDR >>> Linux.PAGE_SHIFT,
                null, null, null, freshState);
        tree.replace(List.of(), List.of(old));
    }

    Vma old() {
        return old;
    }

    Vma fresh() {
        return fresh;
    }

    /** The writer's change, inside its sequence bracket: publish the new VMA, retire the old, zap its PTE. */
    void replaceAndZap() {
        tree.replace(List.of(old), List.of(fresh));
        old.markDetached();
        PteTable table = tables.lookup(ADDR);
        if (table != null) {
            table.ptl().lock();
            try {
                if (!table.isDetached()) {
                    table.clear(ADDR);
                }
            } finally {
                table.ptl().unlock();
            }
        }
    }

    /** The fault's lockless lookup. */
    Vma lookup() {
        return tree.find(ADDR);
    }

    /**
     * The fault's commit: allocate the PTE table (a CAS: the Dekker pair with the writer's table lookup), then
     * under the PTL install a PTE through {@code vma} if the table is attached, {@code seq} still validates
     * {@code start}, the VMA is attached (when {@code vmaMustBeAttached}) and no PTE is there yet.
     */
    void commit(Vma vma, SeqCount seq, long start, boolean vmaMustBeAttached) {
        PteTable table = tables.allocate(ADDR);
        table.ptl().lock();
        try {
            if (!table.isDetached() && seq.validate(start) && (!vmaMustBeAttached || !vma.isDetached())
                    && table.page(ADDR) == null) {
                table.install(ADDR, Page.ZERO, vma == old ? 1 : 2);
            }
        } finally {
            table.ptl().unlock();
        }
    }

    /** The arbiter: the PTE's bits, 1 through the retired VMA, 2 through the new one, 0 when there is none. */
    int pte() {
        PteTable table = tables.lookup(ADDR);
        if (table == null) {
            return 0;
        }
        table.ptl().lock();
        try {
            return table.page(ADDR) == null ? 0 : table.bits(ADDR);
        } finally {
            table.ptl().unlock();
        }
    }
}
