package dev.mmlab.api.mm;

import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The VMA tree as an immutable sorted array published with one release store. Readers load the array once
 * and binary-search it with no lock (the garbage collector is the RCU grace period: an old array stays
 * valid for whoever still reads it). Writers are serialized by this object's monitor and copy the array:
 * O(n) per change, O(log n) per lookup. Safe for every strategy, including those with lockless lookups.
 */
public final class SnapshotVmaTree implements VmaTree {
    private static final Vma[] EMPTY = new Vma[0];

    private volatile Vma[] snapshot = EMPTY;

    @Override
    public Vma find(long addr) {
        Vma[] s = snapshot;
        int i = lastStartingAtOrBefore(s, addr);
        return i >= 0 && s[i].end() > addr ? s[i] : null;
    }

    @Override
    public Vma findNext(long addr) {
        Vma[] s = snapshot;
        int i = lastStartingAtOrBefore(s, addr);
        if (i >= 0 && s[i].end() > addr) {
            return s[i];
        }
        return i + 1 < s.length ? s[i + 1] : null;
    }

    @Override
    public Vma findPrev(long addr) {
        Vma[] s = snapshot;
        int i = lastStartingAtOrBefore(s, addr - 1);
        return i >= 0 ? s[i] : null;
    }

    @Override
    public List<Vma> overlapping(long start, long end) {
        Vma[] s = snapshot;
        int i = lastStartingAtOrBefore(s, start);
        if (i < 0 || s[i].end() <= start) {
            i++;
        }
        List<Vma> out = new ArrayList<>();
        for (; i < s.length && s[i].start() < end; i++) {
            out.add(s[i]);
        }
        return out;
    }

    @Override
    public List<Vma> all() {
        return Collections.unmodifiableList(Arrays.asList(snapshot));
    }

    @Override
    public int size() {
        return snapshot.length;
    }

    @Override
    public synchronized void replace(List<Vma> removed, List<Vma> added) {
        Vma[] s = snapshot;
        Set<Vma> gone = Collections.newSetFromMap(new IdentityHashMap<>());
        gone.addAll(removed);
        List<Vma> next = new ArrayList<>(s.length - removed.size() + added.size());
        int found = 0;
        for (Vma v : s) {
            if (gone.contains(v)) {
                found++;
            } else {
                next.add(v);
            }
        }
        if (found != gone.size()) {
            throw new IllegalStateException("replace: " + (gone.size() - found) + " of the VMAs to remove are not in the tree: " + removed);
        }
        next.addAll(added);
        next.sort(Comparator.comparingLong(Vma::start));
        for (int i = 1; i < next.size(); i++) {
            if (next.get(i - 1).end() > next.get(i).start()) {
                throw new IllegalStateException("replace would overlap " + next.get(i - 1) + " and " + next.get(i));
            }
        }
        snapshot = next.toArray(EMPTY);
    }

    /** Index of the last VMA with start <= addr, or -1. */
    private static int lastStartingAtOrBefore(Vma[] s, long addr) {
        int lo = 0;
        int hi = s.length - 1;
        int best = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (s[mid].start() <= addr) {
                best = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }
}
