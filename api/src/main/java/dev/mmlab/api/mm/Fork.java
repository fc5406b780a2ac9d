package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.TASK_SIZE;
import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code kernel/fork.c}'s {@code dup_mmap} and {@code mm/memory.c}'s {@code copy_page_range}: the copy of an
 * address space that fork makes.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The parent's lock is held for writing over the whole space for the entire
 *       copy, and every parent VMA gets {@link MmLockGuard#startWrite} before it is copied (the 6.4 fix for the
 *       fork/COW corruption, bugzilla 217624: a per-VMA-locked fault must not write a private page while its PTE
 *       is being copied). Each PTE table is copied under the parent's PTL and the child's. The child's VMAs are
 *       published under the child's own lock, also coarse write.</li>
 *   <li><b>Lock order.</b> parent's guard &rarr; child's guard (the publish, inside the parent's locked body);
 *       parent PTL &rarr; child PTL (the copy, before the publish). The child is not published yet, so nobody
 *       else takes its locks.</li>
 *   <li><b>Follows.</b> {@code dup_mmap}: {@code VM_DONTCOPY} VMAs are skipped; {@code VM_WIPEONFORK} ones
 *       come up empty in the child with no anon identity; the child loses {@code VM_LOCKED}; an anon identity is
 *       forked ({@code anon_vma_fork}), which keeps later merges as Linux's. Page tables are copied only where
 *       Linux copies them ({@code vma_needs_copy}: the VMA has anonymous pages or is a PFN map); elsewhere the
 *       child faults from the page cache. A copied private PTE is write-protected in parent and child and the
 *       page's refcount rises, so the first write on either side copies it.</li>
 * </ul>
 */
final class Fork {
    private Fork() {}

    /** {@code fork()}'s mm half; see {@link Mm#fork}. Caller holds no lock of {@code parent}. */
    static Mm fork(MmStruct parent) {
        return Locking.locked(parent, LockIntent.coarse(OpKind.FORK, LockIntent.Mode.WRITE, 0, TASK_SIZE), guard -> {
            Mm child = Mm.forkOf(parent);
            MmStruct c = child.struct();
            c.startBrk = parent.startBrk;
            c.brk = parent.brk;
            c.startStack = parent.startStack;
            c.argStart = parent.argStart;
            c.argEnd = parent.argEnd;
            copy(parent, guard, c);
            // dup_mmap copies the layout as it is: a pair that stack expansion left apart stays apart.
            c.stackMeets.addAll(parent.stackMeets);
            Mmap.pruneStackMeets(c, 0, TASK_SIZE);
            return child;
        });
    }

    /** Copy {@code parent} into the empty {@code child}. Caller holds {@code parentGuard} (coarse write). */
    private static void copy(MmStruct parent, MmLockGuard parentGuard, MmStruct child) {
        List<Vma> childVmas = new ArrayList<>();
        for (Vma v : parent.tree.all()) {
            parentGuard.startWrite(v);
            Sched.cost(Cost.FORK_VMA);
            if (v.has(VM_DONTCOPY)) {
                continue;
            }
            boolean wipe = v.has(VM_WIPEONFORK);
            AnonIdentity anon = wipe || v.anon() == null ? null : new AnonIdentity(v.anon());
            childVmas.add(new Vma(v.start(), v.end(), v.flags() & ~VM_LOCKED_MASK, v.pgoff(), v.file(), v.ops(), anon,
                    child.newVmaState()));
            if (!wipe && (v.anon() != null || v.has(VM_PFNMAP))) {
                copyPageRange(parent, child, v);
            }
        }
        publish(child, childVmas);
    }

    private static void copyPageRange(MmStruct parent, MmStruct child, Vma v) {
        boolean cow = !v.isShared();
        parent.pageTables.forEachPtl(v.start(), v.end(), (src, from, to) -> {
            if (src.present() == 0) {
                return;
            }
            child.pageTables.withAllocatedPtl(from, dst -> {
                for (long a = from; a < to; a += PAGE_SIZE) {
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
                    Sched.cost(Cost.FORK_PAGE);
                }
                return null;
            });
        });
    }

    /** Publish the VMAs copied into the (new, unshared) child, running drivers' open. */
    private static void publish(MmStruct child, List<Vma> vmas) {
        Locking.locked(child, LockIntent.coarse(OpKind.FORK, LockIntent.Mode.WRITE, 0, TASK_SIZE), guard -> {
            VmaLayout.Edit edit = new VmaLayout.Edit();
            edit.added.addAll(vmas);
            for (Vma v : vmas) {
                if (v.ops() != null) {
                    edit.opened.add(v);
                }
            }
            edit.lockStart = 0;
            edit.lockEnd = TASK_SIZE;
            VmaCommit.apply(child, guard, edit, false);
            return null;
        });
    }
}
