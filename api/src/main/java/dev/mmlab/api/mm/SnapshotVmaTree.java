package dev.mmlab.api.mm;

import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * The VMA tree as an immutable snapshot published with one release store.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> A snapshot is immutable once published (one volatile store of
 *       {@code snapshot}); readers load it once and binary-search both levels with no lock, and the garbage
 *       collector is the RCU grace period (an old snapshot stays valid for whoever still reads it). Writers
 *       are serialized by this object's monitor. Which VMAs a writer may change is the strategy's business:
 *       the caller holds the isolation its strategy requires, and the guard passed to
 *       {@link #replace(MmLockGuard, List, List)} is not consulted.</li>
 *   <li><b>Lock order.</b> the strategy's guard (and, in {@code rangelock}, its VMA lock) &rarr; this object's
 *       monitor, a leaf: a replace takes no other lock and never blocks on readers.</li>
 *   <li><b>What a reader may see mid-update.</b> The tree before or after a replace, never a mix: safe for
 *       every strategy, including those with lockless lookups. {@link #all()} flattens a snapshot once, on first
 *       use, and caches the result in it (a benign race: two readers may both flatten, to equal arrays).</li>
 *   <li><b>Layout and cost.</b> A snapshot is a sorted sequence of VMAs cut into chunks of at most
 *       {@link #MAX_CHUNK}: an array of chunk references plus the start of each chunk's first VMA (a two-level
 *       B-tree with copy-on-write paths). A writer rebuilds only the chunks it touches and copies the chunk
 *       array: O(n / B + k B) for n VMAs, chunk size B and k changed VMAs, instead of O(n) for one flat array,
 *       so 100,000 VMAs build in well under a second.</li>
 * </ul>
 */
public final class SnapshotVmaTree implements VmaTree {
    /** Chunks are split above this size and rebuilt at half of it. */
    static final int MAX_CHUNK = 512;
    private static final Vma[] EMPTY = new Vma[0];

    /** One immutable version of the tree. */
    private static final class Snapshot {
        final Vma[][] chunks;
        /** {@code chunks[i][0].start()}, for the top-level search. */
        final long[] firstStart;
        final int size;
        /** The flattened sequence, built on first use by {@link #all()}. */
        volatile Vma[] flat;

        Snapshot(Vma[][] chunks) {
            this.chunks = chunks;
            this.firstStart = new long[chunks.length];
            int n = 0;
            for (int i = 0; i < chunks.length; i++) {
                firstStart[i] = chunks[i][0].start();
                n += chunks[i].length;
            }
            this.size = n;
        }

        /** Chunk of the last VMA starting at or before {@code addr}, or -1. */
        int chunkOf(long addr) {
            int lo = 0;
            int hi = firstStart.length - 1;
            int best = -1;
            while (lo <= hi) {
                int mid = (lo + hi) >>> 1;
                if (firstStart[mid] <= addr) {
                    best = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            return best;
        }
    }

    private volatile Snapshot snapshot = new Snapshot(new Vma[0][]);

    @Override
    public Vma find(long addr) {
        charge();
        Snapshot s = snapshot;
        int c = s.chunkOf(addr);
        if (c < 0) {
            return null;
        }
        Vma[] chunk = s.chunks[c];
        int i = lastStartingAtOrBefore(chunk, addr);
        return chunk[i].end() > addr ? chunk[i] : null;
    }

    @Override
    public Vma findNext(long addr) {
        charge();
        Snapshot s = snapshot;
        int c = s.chunkOf(addr);
        if (c < 0) {
            return s.chunks.length > 0 ? s.chunks[0][0] : null;
        }
        Vma[] chunk = s.chunks[c];
        int i = lastStartingAtOrBefore(chunk, addr);
        if (chunk[i].end() > addr) {
            return chunk[i];
        }
        if (i + 1 < chunk.length) {
            return chunk[i + 1];
        }
        return c + 1 < s.chunks.length ? s.chunks[c + 1][0] : null;
    }

    @Override
    public Vma findPrev(long addr) {
        charge();
        Snapshot s = snapshot;
        int c = s.chunkOf(addr - 1);
        if (c < 0) {
            return null;
        }
        Vma[] chunk = s.chunks[c];
        return chunk[lastStartingAtOrBefore(chunk, addr - 1)];
    }

    @Override
    public List<Vma> overlapping(long start, long end) {
        charge();
        Snapshot s = snapshot;
        List<Vma> out = new ArrayList<>();
        int c = Math.max(0, s.chunkOf(start));
        for (; c < s.chunks.length; c++) {
            Vma[] chunk = s.chunks[c];
            int i = Math.max(0, lastStartingAtOrBefore(chunk, start));
            for (; i < chunk.length; i++) {
                Vma v = chunk[i];
                if (v.start() >= end) {
                    return out;
                }
                if (v.end() > start) {
                    out.add(v);
                }
            }
        }
        return out;
    }

    @Override
    public List<Vma> all() {
        charge();
        Snapshot s = snapshot;
        Vma[] flat = s.flat;
        if (flat == null) {
            flat = new Vma[s.size];
            int n = 0;
            for (Vma[] chunk : s.chunks) {
                System.arraycopy(chunk, 0, flat, n, chunk.length);
                n += chunk.length;
            }
            s.flat = flat;
        }
        return Collections.unmodifiableList(Arrays.asList(flat));
    }

    @Override
    public int size() {
        return snapshot.size;
    }

    /**
     * {@inheritDoc} The guard is not needed here: writers are serialized by this object's monitor.
     */
    @Override
    public void replace(MmLockGuard guard, List<Vma> removed, List<Vma> added) {
        Sched.access(this, true);
        Sched.cost(Cost.TREE_PUBLISH);
        replace(removed, added);
    }

    /**
     * What a lookup costs under the virtual clock: a read of the root's cache line (moved here when a writer
     * published since this core last read it) and one step per level of a tree of 16-way nodes, as the maple
     * tree's.
     */
    private void charge() {
        Sched.access(this, false);
        Sched.cost(Cost.VMA_LOOKUP_LEVEL, 1 + (63 - Long.numberOfLeadingZeros(Math.max(1, snapshot.size))) / 4);
    }

    /**
     * {@link #replace(MmLockGuard, List, List)} for a tree built outside an address space (tests, benchmarks).
     * Caller holds the isolation its strategy requires for the VMAs it changes; writers are serialized here.
     * Each removed VMA is found by binary search on its start and checked by identity; each added one goes to
     * the chunk its start falls in; only those chunks are rebuilt (merged, split when too large, dropped when
     * empty). Nothing changes when it throws; readers never block.
     */
    public synchronized void replace(List<Vma> removed, List<Vma> added) {
        Snapshot s = snapshot;
        int chunks = s.chunks.length;
        // Per touched chunk: what leaves it and what joins it.
        List<List<Vma>> leaving = new ArrayList<>(Collections.nCopies(Math.max(1, chunks), (List<Vma>) null));
        List<List<Vma>> joining = new ArrayList<>(Collections.nCopies(Math.max(1, chunks), (List<Vma>) null));
        for (Vma v : removed) {
            int c = s.chunkOf(v.start());
            int i = c < 0 ? -1 : lastStartingAtOrBefore(s.chunks[c], v.start());
            if (i < 0 || s.chunks[c][i] != v) {
                throw new IllegalStateException("replace: a VMA to remove is not in the tree: " + v + " (removing " + removed + ")");
            }
            List<Vma> l = leaving.get(c);
            if (l == null) {
                l = new ArrayList<>(2);
                leaving.set(c, l);
            }
            for (Vma other : l) {
                if (other == v) {
                    throw new IllegalStateException("replace: " + v + " is to be removed twice");
                }
            }
            l.add(v);
        }
        for (Vma v : added) {
            int c = Math.max(0, s.chunkOf(v.start()));
            List<Vma> l = joining.get(c);
            if (l == null) {
                l = new ArrayList<>(2);
                joining.set(c, l);
            }
            l.add(v);
        }
        List<Vma[]> out = new ArrayList<>(chunks + 2);
        for (int c = 0; c < Math.max(1, chunks); c++) {
            List<Vma> leave = leaving.get(c);
            List<Vma> join = joining.get(c);
            Vma[] chunk = c < chunks ? s.chunks[c] : EMPTY;
            if (leave == null && join == null) {
                out.add(chunk);
                continue;
            }
            Vma[] rebuilt = rebuild(chunk, leave, join);
            for (int from = 0; from < rebuilt.length; from += MAX_CHUNK / 2) {
                int to = rebuilt.length - from <= MAX_CHUNK ? rebuilt.length : from + MAX_CHUNK / 2;
                out.add(Arrays.copyOfRange(rebuilt, from, to));
                if (to == rebuilt.length) {
                    break;
                }
            }
        }
        out.removeIf(chunk -> chunk.length == 0);
        // Keep chunks from fragmenting after removals: two neighbours that fit in half a chunk become one.
        for (int c = 0; c + 1 < out.size();) {
            Vma[] a = out.get(c);
            Vma[] b = out.get(c + 1);
            if (a.length + b.length <= MAX_CHUNK / 2) {
                Vma[] joined = Arrays.copyOf(a, a.length + b.length);
                System.arraycopy(b, 0, joined, a.length, b.length);
                out.set(c, joined);
                out.remove(c + 1);
            } else {
                c++;
            }
        }
        for (int c = 1; c < out.size(); c++) {
            Vma[] before = out.get(c - 1);
            checkOrder(before[before.length - 1], out.get(c)[0]);
        }
        snapshot = new Snapshot(out.toArray(new Vma[0][]));
    }

    /** {@code chunk} without {@code leave} (identities) and with {@code join}, merged in order and checked for overlap. */
    private static Vma[] rebuild(Vma[] chunk, List<Vma> leave, List<Vma> join) {
        Vma[] add = join == null ? EMPTY : join.toArray(EMPTY);
        if (add.length > 1) {
            Arrays.sort(add, Comparator.comparingLong(Vma::start));
        }
        java.util.Set<Vma> gone = leave == null ? Collections.emptySet()
                : Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        if (leave != null) {
            gone.addAll(leave);
        }
        Vma[] out = new Vma[chunk.length - gone.size() + add.length];
        int n = 0;
        int j = 0;
        for (Vma v : chunk) {
            if (gone.contains(v)) {
                continue;
            }
            while (j < add.length && add[j].start() < v.start()) {
                n = append(out, n, add[j++]);
            }
            n = append(out, n, v);
        }
        while (j < add.length) {
            n = append(out, n, add[j++]);
        }
        return out;
    }

    private static int append(Vma[] out, int n, Vma v) {
        if (n > 0) {
            checkOrder(out[n - 1], v);
        }
        out[n] = v;
        return n + 1;
    }

    private static void checkOrder(Vma before, Vma after) {
        if (before.end() > after.start()) {
            throw new IllegalStateException("replace would overlap " + before + " and " + after);
        }
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
