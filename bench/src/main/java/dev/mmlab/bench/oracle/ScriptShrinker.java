package dev.mmlab.bench.oracle;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongUnaryOperator;
import java.util.function.Predicate;

/**
 * Shrinks a script that shows a difference to a smaller one that still shows it, in three passes, each keeping a
 * change only if the result still differs:
 * <ol>
 *   <li>the shortest prefix that differs;</li>
 *   <li>each op dropped in turn (greedy, one pass, back to front: later ops depend on earlier ones more often than
 *       the reverse); inside a fork, each of the child's ops too;</li>
 *   <li>the numbers made smaller: first the whole script moved down toward page 0 (which keeps the ops' relative
 *       places), then each op's lengths, page offsets and file offset tried at 0 or 1, half, and one less, and
 *       its mmap options dropped; repeated for an op while something is taken.</li>
 * </ol>
 * Each try is a kernel run and a model run, so the number of tries is bounded ({@link #MAX_TRIES}).
 */
public final class ScriptShrinker {
    /** At most this many tries per script: a 60-op script takes about 120 to drop ops, and the numbers the rest. */
    public static final int MAX_TRIES = 600;

    private ScriptShrinker() {}

    /**
     * A script no bigger than {@code script} for which {@code differs} holds, {@code script} itself if nothing
     * smaller does. {@code differs} must hold for {@code script}.
     */
    public static OpScript shrink(OpScript script, Predicate<OpScript> differs) {
        int[] tries = {0};
        Predicate<OpScript> counted = s -> {
            tries[0]++;
            return differs.test(s);
        };
        OpScript best = script;
        for (int n = 1; n < script.ops().size() && tries[0] < MAX_TRIES; n++) {
            OpScript prefix = script.withOps(script.ops().subList(0, n));
            if (counted.test(prefix)) {
                best = prefix;
                break;
            }
        }
        best = best.withOps(dropOps(best.ops(), ops -> counted.test(script.withOps(ops)), tries));
        best = best.withOps(smallerNumbers(best.ops(), ops -> counted.test(script.withOps(ops)), tries));
        return best;
    }

    /** Each op dropped if the rest still differs; a kept fork's child ops likewise. */
    private static List<Op> dropOps(List<Op> ops, Predicate<List<Op>> differs, int[] tries) {
        List<Op> best = new ArrayList<>(ops);
        for (int i = best.size() - 2; i >= 0 && tries[0] < MAX_TRIES; i--) {
            List<Op> fewer = new ArrayList<>(best);
            fewer.remove(i);
            if (differs.test(fewer)) {
                best = fewer;
            }
        }
        for (int i = 0; i < best.size() && tries[0] < MAX_TRIES; i++) {
            if (best.get(i) instanceof Op.Fork fork) {
                int at = i;
                List<Op> current = best;
                List<Op> child = dropOps(fork.child(), c -> differs.test(replace(current, at, new Op.Fork(c))), tries);
                best = replace(best, i, new Op.Fork(child));
            }
        }
        return best;
    }

    private static List<Op> smallerNumbers(List<Op> ops, Predicate<List<Op>> differs, int[] tries) {
        List<Op> best = ops;
        long lowest = lowestPage(ops);
        if (lowest > 0 && tries[0] < MAX_TRIES) {
            List<Op> moved = new ArrayList<>();
            for (Op op : ops) {
                moved.add(moved(op, lowest));
            }
            if (differs.test(moved)) {
                best = moved;
            }
        }
        for (int i = 0; i < best.size() && tries[0] < MAX_TRIES; i++) {
            boolean taken = true;
            while (taken && tries[0] < MAX_TRIES) {
                taken = false;
                for (Op candidate : smaller(best.get(i), best, i, differs, tries)) {
                    List<Op> changed = replace(best, i, candidate);
                    if (differs.test(changed)) {
                        best = changed;
                        taken = true;
                        break;
                    }
                    if (tries[0] >= MAX_TRIES) {
                        break;
                    }
                }
            }
        }
        return best;
    }

    /**
     * Smaller versions of {@code op}, most reduced first. A fork's child is shrunk in place here (its numbers,
     * against the whole script), and the fork so shrunk is its one candidate.
     */
    private static List<Op> smaller(Op op, List<Op> script, int at, Predicate<List<Op>> differs, int[] tries) {
        Set<Op> out = new LinkedHashSet<>();
        if (op instanceof Op.Mmap m) {
            for (long v : lower(m.pages(), 1)) {
                out.add(new Op.Mmap(m.page(), v, m.prot(), m.shared(), m.file(), m.offsetPages(), m.placement(), m.options()));
            }
            for (long v : lower(m.page(), 0)) {
                out.add(new Op.Mmap(v, m.pages(), m.prot(), m.shared(), m.file(), m.offsetPages(), m.placement(), m.options()));
            }
            for (long v : lower(m.offsetPages(), 0)) {
                out.add(new Op.Mmap(m.page(), m.pages(), m.prot(), m.shared(), m.file(), v, m.placement(), m.options()));
            }
            for (Op.MmapOption o : m.options()) {
                Set<Op.MmapOption> fewer = EnumSet.noneOf(Op.MmapOption.class);
                fewer.addAll(m.options());
                fewer.remove(o);
                out.add(new Op.Mmap(m.page(), m.pages(), m.prot(), m.shared(), m.file(), m.offsetPages(), m.placement(), fewer));
            }
        } else if (op instanceof Op.Mremap r) {
            for (long v : lower(r.oldPages(), 0)) {
                out.add(new Op.Mremap(r.page(), v, r.newPages(), r.maymove(), r.dontunmap(), r.newPage()));
            }
            for (long v : lower(r.newPages(), 0)) {
                out.add(new Op.Mremap(r.page(), r.oldPages(), v, r.maymove(), r.dontunmap(), r.newPage()));
            }
            for (long v : lower(r.page(), 0)) {
                out.add(new Op.Mremap(v, r.oldPages(), r.newPages(), r.maymove(), r.dontunmap(), r.newPage()));
            }
            for (long v : lower(r.newPage(), 0)) {
                out.add(new Op.Mremap(r.page(), r.oldPages(), r.newPages(), r.maymove(), r.dontunmap(), v));
            }
        } else if (op instanceof Op.Touch t) {
            for (long v : lower(t.page(), 0)) {
                out.add(new Op.Touch(v, t.write()));
            }
        } else if (op instanceof Op.Fork f) {
            List<Op> child = smallerNumbers(f.child(), c -> differs.test(replace(script, at, new Op.Fork(c))), tries);
            if (!child.equals(f.child())) {
                out.add(new Op.Fork(child));
            }
        } else {
            long[] range = range(op);
            if (range != null) {
                for (long v : lower(range[1], 0)) {
                    out.add(withRange(op, range[0], v));
                }
                for (long v : lower(range[0], 0)) {
                    out.add(withRange(op, v, range[1]));
                }
            }
        }
        out.remove(op);
        return new ArrayList<>(out);
    }

    /** Values below {@code v}, most reduced first: {@code min}, half, one less. */
    private static List<Long> lower(long v, long min) {
        Set<Long> out = new LinkedHashSet<>();
        for (long c : new long[] {min, v / 2, v - 1}) {
            if (c >= min && c < v) {
                out.add(c);
            }
        }
        return new ArrayList<>(out);
    }

    /** PAGE and PAGES of an op that is a plain range (munmap, mprotect, madvise, mlock, munlock), else null. */
    private static long[] range(Op op) {
        if (op instanceof Op.Munmap u) {
            return new long[] {u.page(), u.pages()};
        } else if (op instanceof Op.Mprotect p) {
            return new long[] {p.page(), p.pages()};
        } else if (op instanceof Op.Madvise a) {
            return new long[] {a.page(), a.pages()};
        } else if (op instanceof Op.Mlock l) {
            return new long[] {l.page(), l.pages()};
        } else if (op instanceof Op.Munlock l) {
            return new long[] {l.page(), l.pages()};
        }
        return null;
    }

    private static Op withRange(Op op, long page, long pages) {
        if (op instanceof Op.Munmap) {
            return new Op.Munmap(page, pages);
        } else if (op instanceof Op.Mprotect p) {
            return new Op.Mprotect(page, pages, p.prot(), p.pkey());
        } else if (op instanceof Op.Madvise a) {
            return new Op.Madvise(page, pages, a.advice());
        } else if (op instanceof Op.Mlock l) {
            return new Op.Mlock(page, pages, l.onfault());
        } else if (op instanceof Op.Munlock) {
            return new Op.Munlock(page, pages);
        }
        throw new IllegalArgumentException("not a range op: " + op);
    }

    /** The lowest page any op names (the window's start, when none does). */
    private static long lowestPage(List<Op> ops) {
        long lowest = Long.MAX_VALUE;
        for (Op op : ops) {
            long[] low = {Long.MAX_VALUE};
            moved(op, p -> {
                low[0] = Math.min(low[0], p);
                return p;
            });
            lowest = Math.min(lowest, low[0]);
        }
        return lowest == Long.MAX_VALUE ? 0 : lowest;
    }

    private static Op moved(Op op, long by) {
        return moved(op, p -> p - by);
    }

    /** {@code op} with each page offset it names (not lengths, not file offsets) mapped through {@code page}. */
    private static Op moved(Op op, LongUnaryOperator page) {
        if (op instanceof Op.Mmap m) {
            return new Op.Mmap(page.applyAsLong(m.page()), m.pages(), m.prot(), m.shared(), m.file(), m.offsetPages(),
                    m.placement(), m.options());
        } else if (op instanceof Op.Mremap r) {
            return new Op.Mremap(page.applyAsLong(r.page()), r.oldPages(), r.newPages(), r.maymove(), r.dontunmap(),
                    r.fixed() ? page.applyAsLong(r.newPage()) : r.newPage());
        } else if (op instanceof Op.Touch t) {
            return new Op.Touch(page.applyAsLong(t.page()), t.write());
        } else if (op instanceof Op.Fork f) {
            List<Op> child = new ArrayList<>();
            for (Op c : f.child()) {
                child.add(moved(c, page));
            }
            return new Op.Fork(child);
        }
        long[] range = range(op);
        return range == null ? op : withRange(op, page.applyAsLong(range[0]), range[1]);
    }

    private static List<Op> replace(List<Op> ops, int i, Op op) {
        List<Op> out = new ArrayList<>(ops);
        out.set(i, op);
        return out;
    }
}
