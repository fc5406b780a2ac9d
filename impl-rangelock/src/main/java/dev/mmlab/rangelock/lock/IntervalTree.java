package dev.mmlab.rangelock.lock;

import java.util.List;

/**
 * An interval tree: a treap keyed by {@code (start, seq)} whose nodes carry the largest {@code end} of
 * their subtree, so an overlap query skips every subtree that ends at or before the query's start.
 * A query costs O(log n + k) expected for k results instead of scanning all n intervals.
 *
 * <p>Not thread-safe: the owner guards it (in {@link TreeRangeLock}, with its mutex). Nodes are
 * intrusive, so inserting and removing allocate nothing. Treap priorities are a hash of the unique
 * sequence number, which keeps the shape random without a random-number generator.
 *
 * @param <N> the node type, which extends {@link Node}
 */
final class IntervalTree<N extends IntervalTree.Node<N>> {

    /**
     * Intrusive tree node. The links, {@code priority} and {@code maxEnd} belong to the tree; they are
     * package-private only because private members are not reachable through the type variable.
     */
    abstract static class Node<N extends Node<N>> {
        final long start;
        final long end;
        /** Unique, set by the owner before {@link #insert}; breaks ties between equal starts. */
        long seq;
        int priority;
        long maxEnd;
        N left;
        N right;

        Node(long start, long end) {
            this.start = start;
            this.end = end;
        }
    }

    private N root;
    private int size;

    /** Number of intervals in the tree. */
    int size() {
        return size;
    }

    boolean isEmpty() {
        return root == null;
    }

    /** Adds {@code n}, whose {@code seq} must be unique among the nodes in the tree. */
    void insert(N n) {
        n.left = null;
        n.right = null;
        n.maxEnd = n.end;
        n.priority = mix(n.seq);
        root = insert(root, n);
        size++;
    }

    /** Removes {@code n}, which must be in the tree. */
    void remove(N n) {
        root = remove(root, n);
        n.left = null;
        n.right = null;
        size--;
    }

    /** Appends to {@code out}, in {@code (start, seq)} order, every interval overlapping {@code [start, end)}. */
    void collectOverlapping(long start, long end, List<? super N> out) {
        collectOverlapping(root, start, end, out);
    }

    /** Appends every interval to {@code out}, in {@code (start, seq)} order. */
    void collectAll(List<? super N> out) {
        // [MIN, MAX) misses nothing: every stored interval has MIN <= start < end <= MAX.
        collectOverlapping(root, Long.MIN_VALUE, Long.MAX_VALUE, out);
    }

    /** Checks the ordering, heap and maxEnd invariants; for tests. */
    void checkInvariants() {
        int[] count = new int[1];
        check(root, null, null, count);
        if (count[0] != size) {
            throw new IllegalStateException("size " + size + " but " + count[0] + " nodes reachable");
        }
    }

    private static <N extends Node<N>> N insert(N t, N n) {
        if (t == null) {
            return n;
        }
        if (precedes(n, t)) {
            t.left = insert(t.left, n);
            if (t.left.priority > t.priority) {
                t = rotateRight(t);
            }
        } else {
            t.right = insert(t.right, n);
            if (t.right.priority > t.priority) {
                t = rotateLeft(t);
            }
        }
        update(t);
        return t;
    }

    private static <N extends Node<N>> N remove(N t, N n) {
        if (t == null) {
            throw new IllegalStateException("interval [" + n.start + ", " + n.end + ") is not in the tree");
        }
        if (t == n) {
            return merge(t.left, t.right);
        }
        if (precedes(n, t)) {
            t.left = remove(t.left, n);
        } else {
            t.right = remove(t.right, n);
        }
        update(t);
        return t;
    }

    /** Joins two treaps where every key of {@code a} precedes every key of {@code b}. */
    private static <N extends Node<N>> N merge(N a, N b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a.priority > b.priority) {
            a.right = merge(a.right, b);
            update(a);
            return a;
        }
        b.left = merge(a, b.left);
        update(b);
        return b;
    }

    private static <N extends Node<N>> void collectOverlapping(N t, long start, long end, List<? super N> out) {
        // Prune: nothing in this subtree reaches past start.
        if (t == null || t.maxEnd <= start) {
            return;
        }
        collectOverlapping(t.left, start, end, out);
        // Prune: t and its right subtree all start at or after end.
        if (t.start >= end) {
            return;
        }
        if (t.end > start) {
            out.add(t);
        }
        collectOverlapping(t.right, start, end, out);
    }

    private static <N extends Node<N>> N rotateRight(N t) {
        N l = t.left;
        t.left = l.right;
        l.right = t;
        update(t);
        update(l);
        return l;
    }

    private static <N extends Node<N>> N rotateLeft(N t) {
        N r = t.right;
        t.right = r.left;
        r.left = t;
        update(t);
        update(r);
        return r;
    }

    private static <N extends Node<N>> void update(N t) {
        long m = t.end;
        if (t.left != null && t.left.maxEnd > m) {
            m = t.left.maxEnd;
        }
        if (t.right != null && t.right.maxEnd > m) {
            m = t.right.maxEnd;
        }
        t.maxEnd = m;
    }

    private static boolean precedes(Node<?> a, Node<?> b) {
        return a.start < b.start || (a.start == b.start && a.seq < b.seq);
    }

    /** SplitMix64 finaliser: consecutive sequence numbers get unrelated priorities. */
    private static int mix(long seq) {
        long z = seq + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int) (z ^ (z >>> 31));
    }

    private static <N extends Node<N>> long check(N t, N lowerBound, N upperBound, int[] count) {
        if (t == null) {
            return Long.MIN_VALUE;
        }
        count[0]++;
        if ((lowerBound != null && !precedes(lowerBound, t)) || (upperBound != null && !precedes(t, upperBound))) {
            throw new IllegalStateException("order violated at [" + t.start + ", " + t.end + ")");
        }
        if ((t.left != null && t.left.priority > t.priority) || (t.right != null && t.right.priority > t.priority)) {
            throw new IllegalStateException("heap order violated at [" + t.start + ", " + t.end + ")");
        }
        long m = Math.max(t.end, Math.max(check(t.left, lowerBound, t, count), check(t.right, t, upperBound, count)));
        if (m != t.maxEnd) {
            throw new IllegalStateException("maxEnd " + t.maxEnd + " but subtree reaches " + m);
        }
        return m;
    }
}
