package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.PAGE_SIZE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Vma;
import dev.mmlab.api.VmFlags;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The snapshot tree's replace: a merge of sorted runs, refusing bad edits without changing anything. */
class SnapshotVmaTreeTest {
    private static Vma vma(long page, long pages) {
        return new Vma(page * PAGE_SIZE, (page + pages) * PAGE_SIZE, VmFlags.VM_READ, page, null, null, null, null);
    }

    @Test
    void replaceKeepsOrderAndIdentity() {
        SnapshotVmaTree t = new SnapshotVmaTree();
        Vma a = vma(10, 2);
        Vma b = vma(20, 2);
        Vma c = vma(30, 2);
        t.replace(List.of(), List.of(c, a, b));
        assertThat(t.all()).containsExactly(a, b, c);
        Vma b1 = vma(20, 1);
        Vma b2 = vma(21, 1);
        Vma d = vma(5, 1);
        t.replace(List.of(b, c), List.of(b2, d, b1));
        assertThat(t.all()).containsExactly(d, a, b1, b2);
        assertThat(t.find(21 * PAGE_SIZE)).isSameAs(b2);
        assertThat(t.overlapping(0, 21 * PAGE_SIZE)).containsExactly(d, a, b1);
    }

    /** Random splits, merges, inserts and removals, compared with a sorted-map model after every replace. */
    @Test
    void randomEditsMatchAModel() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(42);
        SnapshotVmaTree t = new SnapshotVmaTree();
        java.util.TreeMap<Long, Vma> model = new java.util.TreeMap<>();
        for (int step = 0; step < 20_000; step++) {
            List<Vma> removed = new java.util.ArrayList<>();
            List<Vma> added = new java.util.ArrayList<>();
            long page = rnd.nextLong(4_000);
            Vma hit = t.find(page * PAGE_SIZE);
            if (hit == null) {
                Vma next = t.findNext(page * PAGE_SIZE);
                long room = next == null ? 8 : Math.min(8, next.start() / PAGE_SIZE - page);
                added.add(vma(page, 1 + rnd.nextLong(room)));
            } else if (rnd.nextBoolean() && hit.length() > PAGE_SIZE) {
                long cut = hit.start() / PAGE_SIZE + 1 + rnd.nextLong(hit.length() / PAGE_SIZE - 1);
                removed.add(hit);
                added.add(vma(hit.start() / PAGE_SIZE, cut - hit.start() / PAGE_SIZE));
                added.add(vma(cut, hit.end() / PAGE_SIZE - cut));
            } else {
                removed.add(hit);
                Vma after = t.findNext(hit.end());
                if (after != null && rnd.nextBoolean()) {
                    removed.add(after);
                }
            }
            t.replace(removed, added);
            removed.forEach(v -> model.remove(v.start()));
            added.forEach(v -> model.put(v.start(), v));
            if (step % 97 == 0 || step > 19_900) {
                assertThat(t.all()).containsExactlyElementsOf(model.values());
                long probe = rnd.nextLong(4_100) * PAGE_SIZE;
                java.util.Map.Entry<Long, Vma> floor = model.floorEntry(probe);
                Vma expected = floor != null && floor.getValue().end() > probe ? floor.getValue() : null;
                assertThat(t.find(probe)).isSameAs(expected);
                java.util.Map.Entry<Long, Vma> lower = model.lowerEntry(probe);
                assertThat(t.findPrev(probe)).isSameAs(lower == null ? null : lower.getValue());
                assertThat(t.overlapping(probe, probe + 64 * PAGE_SIZE)).containsExactlyElementsOf(
                        model.values().stream().filter(v -> v.overlaps(probe, probe + 64 * PAGE_SIZE)).toList());
            }
        }
        assertThat(t.size()).isEqualTo(model.size());
    }

    @Test
    void badEditsChangeNothing() {
        SnapshotVmaTree t = new SnapshotVmaTree();
        Vma a = vma(10, 2);
        t.replace(List.of(), List.of(a));
        assertThatThrownBy(() -> t.replace(List.of(vma(10, 2)), List.of())).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> t.replace(List.of(), List.of(vma(11, 2)))).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> t.replace(List.of(a, a), List.of())).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> t.replace(List.of(), List.of(vma(1, 2), vma(2, 2)))).isInstanceOf(IllegalStateException.class);
        assertThat(t.all()).containsExactly(a);
    }

    /**
     * 100,000 VMAs inserted one replace at a time, alternately at both ends of the middle: under a second on the
     * 2-core sandbox when idle (a flat copy-on-write array took about 9 s); the timeout allows for a loaded machine.
     */
    @Test
    void hundredThousandVmasBuildInSeconds() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            SnapshotVmaTree t = new SnapshotVmaTree();
            int n = 100_000;
            for (int i = 0; i < n; i++) {
                long slot = (i % 2 == 0) ? i : n * 2L - i;
                t.replace(List.of(), List.of(vma(16 + slot * 2, 1)));
            }
            assertThat(t.size()).isEqualTo(n);
            List<Vma> all = t.all();
            int disorder = 0;
            for (int i = 1; i < all.size(); i++) {
                disorder += all.get(i - 1).end() > all.get(i).start() ? 1 : 0;
            }
            assertThat(disorder).isZero();
        });
    }
}
