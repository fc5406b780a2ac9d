package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PMD_SIZE;
import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.pgtable.PteTable;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code dup_mmap} and {@code copy_page_range}: the copy of an address space that fork makes.
 *
 * <p>Design notes. The caller holds the parent's mmap lock for writing over the whole space for the entire
 * copy, and this class calls {@link MmLockGuard#startWrite} on every parent VMA before copying it (the 6.4
 * fix for the fork/COW corruption, bugzilla 217624: a per-VMA-locked fault must not write a private page
 * while its PTE is being copied). Per VMA: {@code VM_DONTCOPY} VMAs are skipped; {@code VM_WIPEONFORK} ones
 * come up empty in the child with no anon identity; the child loses {@code VM_LOCKED}; an anon identity is
 * forked ({@code anon_vma_fork}), which keeps later merges as Linux's. Page tables are copied only where Linux
 * copies them ({@code vma_needs_copy}: the VMA has anonymous pages or is a PFN map); elsewhere the child
 * faults from the page cache. A copied private PTE is write-protected in parent and child and the page's
 * refcount rises, so the first write on either side copies it. Lock order: parent PTL, then child PTL (the
 * child is not published yet, so nobody else takes its locks).
 */
final class Fork {
    private Fork() {}

    /** Copy {@code parent} into the empty {@code child}. Caller holds {@code parentGuard} (coarse write). */
    static void copy(Mm parent, MmLockGuard parentGuard, Mm child) {
        List<Vma> childVmas = new ArrayList<>();
        for (Vma v : parent.tree().all()) {
            parentGuard.startWrite(v);
            if (v.has(VM_DONTCOPY)) {
                continue;
            }
            boolean wipe = v.has(VM_WIPEONFORK);
            AnonIdentity anon = wipe || v.anon() == null ? null : new AnonIdentity(v.anon());
            Vma copy = new Vma(v.start(), v.end(), v.flags() & ~VM_LOCKED_MASK, v.pgoff(), v.file(), v.ops(), anon,
                    child.newLockState());
            childVmas.add(copy);
            if (!wipe && (v.anon() != null || v.has(VM_PFNMAP))) {
                copyPageRange(parent, child, v);
            }
        }
        child.publishForkedVmas(childVmas);
    }

    private static void copyPageRange(Mm parent, Mm child, Vma v) {
        boolean cow = !v.isShared();
        for (PteTable src : parent.pageTables().tables(v.start(), v.end())) {
            long lo = Math.max(v.start(), src.base());
            long hi = Math.min(v.end(), src.base() + PMD_SIZE);
            PteTable dst = child.pageTables().allocate(lo);
            src.ptl().lock();
            try {
                if (src.isDetached() || src.present() == 0) {
                    continue;
                }
                dst.ptl().lock();
                try {
                    for (long a = lo; a < hi; a += PAGE_SIZE) {
                        Page page = src.page(a);
                        if (page == null) {
                            continue;
                        }
                        int bits = src.bits(a);
                        if (cow && (bits & PteTable.WRITE) != 0) {
                            bits &= ~PteTable.WRITE;
                            src.setBits(a, bits);
                        }
                        dst.install(a, page.get(), bits);
                    }
                } finally {
                    dst.ptl().unlock();
                }
            } finally {
                src.ptl().unlock();
            }
        }
    }
}
