package dev.mmlab.api.mm;

import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaLockState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The pure part of changing VMAs: split and merge as {@code mm/vma.c} decides them. Nothing here locks or
 * publishes; it turns a window of current VMAs into the VMAs that should replace them, and says which
 * range the change needs locked.
 */
final class VmaLayout {
    private VmaLayout() {}

    /** How a change treats one VMA overlapping the changed range. */
    interface Change {
        /** The new flags for the part of {@code vma} inside the range; {@link #UNMAP} to remove it. */
        long newFlags(Vma vma);
    }

    static final long UNMAP = -1;

    /** The outcome of planning: what goes, what comes, and which range must be write-locked. */
    static final class Edit {
        final List<Vma> removed = new ArrayList<>();
        final List<Vma> added = new ArrayList<>();
        /** New pieces of a split driver VMA that need {@code ops.open} (the first piece stands for the original). */
        final List<Vma> opened = new ArrayList<>();
        /** Pieces of driver VMAs being unmapped, that need {@code ops.close}. */
        final List<Vma> closed = new ArrayList<>();
        /** Ranges whose mapping is removed (to zap). */
        final List<long[]> unmapped = new ArrayList<>();
        long lockStart;
        long lockEnd;

        boolean isEmpty() {
            return removed.isEmpty() && added.isEmpty();
        }
    }

    /**
     * Plan a change of {@code [start, end)}: {@code window} holds every VMA overlapping the range plus the VMAs
     * adjacent to it (ending at {@code start}, starting at {@code end}), in address order.
     */
    static Edit plan(List<Vma> window, long start, long end, Change change, Supplier<VmaLockState> lockState) {
        Edit edit = new Edit();
        edit.lockStart = start;
        edit.lockEnd = end;
        List<Vma> result = new ArrayList<>(window.size() + 2);
        Set<Vma> fresh = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Vma v : window) {
            if (!v.overlaps(start, end)) {
                result.add(v);
                continue;
            }
            long flags = change.newFlags(v);
            if (flags == v.flags()) {
                result.add(v);
                continue;
            }
            long innerStart = Math.max(v.start(), start);
            long innerEnd = Math.min(v.end(), end);
            List<Vma> pieces = new ArrayList<>(3);
            if (v.start() < innerStart) {
                pieces.add(v.withRange(v.start(), innerStart, lockState.get()));
            }
            Vma inner = v.withRange(innerStart, innerEnd, lockState.get());
            if (flags != UNMAP) {
                inner = inner.withFlags(flags, inner.lockState());
            }
            pieces.add(inner);
            if (innerEnd < v.end()) {
                pieces.add(v.withRange(innerEnd, v.end(), lockState.get()));
            }
            if (v.ops() != null) {
                edit.opened.addAll(pieces.subList(1, pieces.size()));
            }
            for (Vma p : pieces) {
                if (p == inner && flags == UNMAP) {
                    edit.unmapped.add(new long[] {p.start(), p.end()});
                    if (p.ops() != null) {
                        // Linux splits first (__split_vma opens every new piece), then closes what goes:
                        // a piece that is both new and unmapped gets open then close, so a driver that
                        // counts open/close stays balanced.
                        edit.closed.add(p);
                    }
                } else {
                    result.add(p);
                    fresh.add(p);
                }
            }
        }
        if (change != UNMAP_ALL) {
            mergeNew(result, fresh, lockState);
        }
        diff(window, result, edit);
        // Every VMA object the edit replaces must be covered, split ones included: a split rewrites the whole
        // object, so two writers on disjoint parts of one VMA must not both plan against it (range locking).
        for (Vma v : edit.removed) {
            edit.lockStart = Math.min(edit.lockStart, v.start());
            edit.lockEnd = Math.max(edit.lockEnd, v.end());
        }
        retainOpened(edit);
        return edit;
    }

    /** Keep in {@code edit.opened} only the pieces that get published or closed. */
    static void retainOpened(Edit edit) {
        Set<Vma> keep = Collections.newSetFromMap(new IdentityHashMap<>());
        keep.addAll(edit.added);
        keep.addAll(edit.closed);
        edit.opened.removeIf(v -> !keep.contains(v));
    }

    /** The change of munmap: remove everything, merge nothing. */
    static final Change UNMAP_ALL = v -> UNMAP;

    /** Merge every adjacent pair of which at least one VMA is new, as vma_merge would around a change. */
    static void mergeNew(List<Vma> result, Set<Vma> fresh, Supplier<VmaLockState> lockState) {
        for (int i = 0; i + 1 < result.size();) {
            Vma a = result.get(i);
            Vma b = result.get(i + 1);
            if ((fresh.contains(a) || fresh.contains(b)) && VmaMerge.canMerge(a, b)) {
                Vma merged = new Vma(a.start(), b.end(), a.flags(), a.pgoff(), a.file(), a.ops(),
                        a.anon() != null ? a.anon() : b.anon(), lockState.get());
                result.set(i, merged);
                result.remove(i + 1);
                fresh.add(merged);
            } else {
                i++;
            }
        }
    }

    /** Fill {@code edit.removed}/{@code edit.added} with what differs between before and after (by identity). */
    static void diff(List<Vma> before, List<Vma> after, Edit edit) {
        Set<Vma> kept = Collections.newSetFromMap(new IdentityHashMap<>());
        kept.addAll(after);
        Set<Vma> old = Collections.newSetFromMap(new IdentityHashMap<>());
        old.addAll(before);
        for (Vma v : before) {
            if (!kept.contains(v)) {
                edit.removed.add(v);
            }
        }
        for (Vma v : after) {
            if (!old.contains(v)) {
                edit.added.add(v);
            }
        }
    }

    /**
     * Insert {@code vma} (not yet in the tree) among {@code window} (its would-be neighbours, none overlapping
     * it) and merge it with them where the kernel would.
     */
    static Edit insert(List<Vma> window, Vma vma, Supplier<VmaLockState> lockState) {
        Edit edit = new Edit();
        List<Vma> result = new ArrayList<>(window);
        int i = 0;
        while (i < result.size() && result.get(i).start() < vma.start()) {
            i++;
        }
        result.add(i, vma);
        Set<Vma> fresh = Collections.newSetFromMap(new IdentityHashMap<>());
        fresh.add(vma);
        mergeNew(result, fresh, lockState);
        diff(window, result, edit);
        edit.lockStart = vma.start();
        edit.lockEnd = vma.end();
        for (Vma v : edit.removed) {
            edit.lockStart = Math.min(edit.lockStart, v.start());
            edit.lockEnd = Math.max(edit.lockEnd, v.end());
        }
        return edit;
    }
}
