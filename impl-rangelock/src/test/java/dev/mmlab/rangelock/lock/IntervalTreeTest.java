package dev.mmlab.rangelock.lock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The treap behind {@link TreeRangeLock}, checked against a brute-force list. */
class IntervalTreeTest {

    static final class Interval extends IntervalTree.Node<Interval> {
        Interval(long start, long end, long seq) {
            super(start, end);
            this.seq = seq;
        }

        @Override
        public String toString() {
            return "[" + start + ", " + end + ")#" + seq;
        }
    }

    private static final Comparator<Interval> KEY_ORDER =
            Comparator.<Interval>comparingLong(i -> i.start).thenComparingLong(i -> i.seq);

    @Test
    void overlapQueriesMatchBruteForceThroughRandomInsertsAndRemovals() {
        SplittableRandom rnd = new SplittableRandom(7);
        IntervalTree<Interval> tree = new IntervalTree<>();
        List<Interval> all = new ArrayList<>();
        long seq = 0;
        for (int op = 0; op < 4_000; op++) {
            if (all.isEmpty() || rnd.nextInt(5) < 3) {
                Interval i = rnd.nextInt(100) == 0
                        ? new Interval(0, Long.MAX_VALUE, seq++)
                        : randomInterval(rnd, seq++);
                tree.insert(i);
                all.add(i);
            } else {
                tree.remove(all.remove(rnd.nextInt(all.size())));
            }
            tree.checkInvariants();
            assertThat(tree.size()).isEqualTo(all.size());

            Interval q = randomInterval(rnd, -1);
            List<Interval> found = new ArrayList<>();
            tree.collectOverlapping(q.start, q.end, found);
            List<Interval> expected = all.stream()
                    .filter(i -> Ranges.overlaps(i.start, i.end, q.start, q.end))
                    .sorted(KEY_ORDER)
                    .toList();
            assertThat(found).as("overlapping %s", q).containsExactlyElementsOf(expected);
        }
        List<Interval> everything = new ArrayList<>();
        tree.collectAll(everything);
        assertThat(everything).containsExactlyElementsOf(all.stream().sorted(KEY_ORDER).toList());
    }

    @Test
    void removingAnAbsentNodeIsAnError() {
        IntervalTree<Interval> tree = new IntervalTree<>();
        tree.insert(new Interval(0, 10, 0));
        assertThatThrownBy(() -> tree.remove(new Interval(0, 10, 1))).isInstanceOf(IllegalStateException.class);
    }

    private static Interval randomInterval(SplittableRandom rnd, long seq) {
        long start = rnd.nextInt(1_000);
        return new Interval(start, start + 1 + rnd.nextInt(100), seq);
    }
}
