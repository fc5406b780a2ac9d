package dev.mmlab.api.check;

import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.Linux;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.VmaMerge;
import dev.mmlab.api.pgtable.PteTable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks the structural invariants of address spaces at a quiescent point (no operation in flight). Several
 * address spaces that share one page allocator (a fork family, or several processes mapping one file) must
 * be checked together: page references are counted across all of them.
 *
 * <ul>
 *   <li>VMAs sorted, disjoint, page aligned, inside user space; canonical (no adjacent pair that should have
 *       merged, by the same rules as the engine's merge);</li>
 *   <li>every present PTE inside a VMA whose protection allows it: the write bit only where the VMA is
 *       writable, and in a private VMA only on an anonymous page nobody else references; a file page only at
 *       its own index of its own file;</li>
 *   <li>every page's refcount equals its references: PTEs, page-cache entries and pins; no live page without
 *       references (a leak), no freed page still mapped;</li>
 *   <li>no lock held or waited for, and the strategy's per-VMA state at rest.</li>
 * </ul>
 * Checking takes each PTE table's lock in turn and nothing else; it does not block on mm locks.
 */
public final class InvariantChecker {
    private InvariantChecker() {}

    /** Check one address space (and the page caches of the files it maps). */
    public static List<Violation> check(Mm mm) {
        return check(List.of(mm), List.of());
    }

    /**
     * Check address spaces that share an allocator, together with the page caches of {@code extraFiles}
     * (files whose cached pages are live though nothing maps them any more).
     */
    public static List<Violation> check(Collection<Mm> mms, Collection<BackingFile> extraFiles) {
        List<Violation> out = new ArrayList<>();
        Map<Page, int[]> refs = new IdentityHashMap<>();
        Set<BackingFile> files = new LinkedHashSet<>(extraFiles);
        for (Mm mm : mms) {
            List<Vma> vmas = mm.tree().all();
            checkLayout(vmas, mm.startBrk(), mm.stackExpansionMeets(), out);
            files.addAll(mm.filesSeen());
            Map<Page, Integer> pins = mm.pins();
            checkPtes(mm, vmas, pins, refs, out);
            pins.forEach((page, n) -> refs.computeIfAbsent(page, k -> new int[1])[0] += n);
            if (!mm.mmLock().isIdle()) {
                out.add(new Violation(Violation.Rule.LOCK, "mm lock not idle: " + mm.mmLock().describe()));
            }
            for (String problem : mm.parts().checkQuiescent(vmas)) {
                out.add(new Violation(Violation.Rule.LOCK, problem));
            }
        }
        for (BackingFile f : files) {
            for (Page p : f.cache().pages()) {
                refs.computeIfAbsent(p, k -> new int[1])[0]++;
            }
        }
        checkPages(mms, refs, out);
        return out;
    }

    static void checkLayout(List<Vma> vmas, List<Violation> out) {
        checkLayout(vmas, -1, Set.of(), out);
    }

    /**
     * As {@link #checkLayout(List, List)}, with two exceptions to the canonical rule. A pair meeting at
     * {@code startBrk}: brk never merges the heap with what lies below start_brk ({@code do_brk_flags} only
     * extends the VMA that {@code vma_prev_limit(start_brk)} finds). A pair whose upper VMA grows down and
     * meets the lower one at an address of {@code stackMeets}: {@code expand_downwards} only moves
     * {@code vm_start}, it never merges, so a stack grown down to the VMA below stays apart from it.
     */
    static void checkLayout(List<Vma> vmas, long startBrk, Set<Long> stackMeets, List<Violation> out) {
        Vma prev = null;
        for (Vma v : vmas) {
            if (!Linux.isPageAligned(v.start()) || !Linux.isPageAligned(v.end()) || v.start() >= v.end()) {
                out.add(new Violation(Violation.Rule.VMA_LAYOUT, "unaligned or empty " + v));
            }
            if (v.start() < 0 || v.end() > Linux.TASK_SIZE) {
                out.add(new Violation(Violation.Rule.VMA_LAYOUT, "outside user space " + v));
            }
            if (v.isDetached()) {
                out.add(new Violation(Violation.Rule.VMA_LAYOUT, "detached VMA still in the tree " + v));
            }
            if (prev != null) {
                if (prev.end() > v.start()) {
                    out.add(new Violation(Violation.Rule.VMA_LAYOUT, "overlap or disorder " + prev + " / " + v));
                } else if (VmaMerge.canMerge(prev, v) && v.start() != startBrk
                        && !(v.has(VM_GROWSDOWN) && stackMeets.contains(v.start()))) {
                    out.add(new Violation(Violation.Rule.VMA_CANONICAL, "should have merged " + prev + " / " + v));
                }
            }
            prev = v;
        }
    }

    private static void checkPtes(Mm mm, List<Vma> vmas, Map<Page, Integer> pins, Map<Page, int[]> refs,
            List<Violation> out) {
        for (PteTable table : mm.pageTables().allTables()) {
            table.withPtl(t -> {
                for (int i = 0; i < PteTable.ENTRIES; i++) {
                    Page p = t.pageAt(i);
                    if (p == null) {
                        continue;
                    }
                    long addr = t.addressOf(i);
                    if (p != Page.ZERO) {
                        refs.computeIfAbsent(p, k -> new int[1])[0]++;
                    }
                    Vma v = find(vmas, addr);
                    if (v == null) {
                        out.add(new Violation(Violation.Rule.PTE, "present PTE at " + Linux.hex(addr) + " outside every VMA (" + p + ")"));
                        continue;
                    }
                    checkPte(v, addr, p, t.bitsAt(i), pins.getOrDefault(p, 0), out);
                }
                return null;
            });
        }
    }

    /** {@code pinned}: get_user_pages pins on {@code p}; a pinned anonymous page is still exclusive to its PTE. */
    private static void checkPte(Vma v, long addr, Page p, int bits, int pinned, List<Violation> out) {
        String where = " at " + Linux.hex(addr) + " in " + v;
        if ((bits & PteTable.WRITE) != 0) {
            if (!v.has(VM_WRITE)) {
                out.add(new Violation(Violation.Rule.PTE, "writable PTE in a VMA without VM_WRITE" + where));
            } else if (!v.isShared() && (p.kind() != Page.Kind.ANON || p.refcount() != 1 + pinned)) {
                out.add(new Violation(Violation.Rule.PTE, "writable PTE on a shared or non-anonymous page in a private VMA (missed COW)" + where + ": " + p));
            }
        }
        if ((bits & PteTable.READ) != 0 && (v.flags() & VM_ACCESS_FLAGS) == 0) {
            out.add(new Violation(Violation.Rule.PTE, "accessible PTE in a PROT_NONE VMA" + where));
        }
        if (p.kind() == Page.Kind.FILE) {
            boolean sharedRight = v.file() == p.file() && v.pgoffOf(addr) == p.index();
            if (!sharedRight) {
                out.add(new Violation(Violation.Rule.PTE, "file page mapped at the wrong place" + where + ": " + p));
            }
        } else if (p.kind() == Page.Kind.ANON && v.isShared()) {
            out.add(new Violation(Violation.Rule.PTE, "anonymous page in a shared VMA" + where));
        }
    }

    private static Vma find(List<Vma> vmas, long addr) {
        int lo = 0;
        int hi = vmas.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Vma v = vmas.get(mid);
            if (addr < v.start()) {
                hi = mid - 1;
            } else if (addr >= v.end()) {
                lo = mid + 1;
            } else {
                return v;
            }
        }
        return null;
    }

    private static void checkPages(Collection<Mm> mms, Map<Page, int[]> refs, List<Violation> out) {
        Set<Page> live = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Object> allocators = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Mm mm : mms) {
            if (allocators.add(mm.allocator())) {
                live.addAll(mm.allocator().livePages());
            }
        }
        for (Map.Entry<Page, int[]> e : refs.entrySet()) {
            Page p = e.getKey();
            if (!live.contains(p)) {
                out.add(new Violation(Violation.Rule.LEAK, "freed page still referenced: " + p));
            } else if (p.refcount() != e.getValue()[0]) {
                out.add(new Violation(Violation.Rule.REFCOUNT, p + " has refcount " + p.refcount() + " but " + e.getValue()[0] + " references"));
            }
        }
        for (Page p : live) {
            if (!refs.containsKey(p)) {
                out.add(new Violation(Violation.Rule.LEAK, "live page with no reference: " + p));
            }
        }
    }
}
