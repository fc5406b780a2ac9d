package dev.mmlab.it.fork;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Strategies;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.check.Violation;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.testing.TestMms;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Go-build race (the fork/COW corruption Linux 6.4 fixed by write-locking every parent VMA in dup_mmap,
 * bugzilla 217624), under every strategy: parent threads keep writing tokens to their own pages while another
 * parent thread forks repeatedly. The parent must keep every token it wrote; each child must hold, per page,
 * a token its writer wrote no earlier than the last write completed before the fork began and no later than
 * the last write started before the fork returned: never a torn, foreign or lost value.
 */
class ForkRaceTest {
    static final int WRITERS = 2;
    static final int PAGES_PER_WRITER = 64;
    static final int FORKS = 40;

    static Stream<String> strategies() {
        return Strategies.discover().names().stream();
    }

    @ParameterizedTest
    @MethodSource("strategies")
    void childrenSeeOnlyConsistentSnapshots(String strategy) {
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> run(strategy));
    }

    private static void run(String strategy) throws Exception {
        Mm parent = TestMms.create(strategy);
        long[] regions = new long[WRITERS];
        for (int w = 0; w < WRITERS; w++) {
            regions[w] = parent.mmapAnon(0x10000000L * (w + 1), PAGES_PER_WRITER * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
        }
        AtomicLongArray completed = new AtomicLongArray(WRITERS);
        AtomicLongArray started = new AtomicLongArray(WRITERS);
        AtomicBoolean stop = new AtomicBoolean();
        CyclicBarrier go = new CyclicBarrier(WRITERS + 1);
        List<Thread> writers = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int id = w;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                    for (long seq = 1; !stop.get(); seq++) {
                        started.set(id, seq);
                        long addr = regions[id] + (seq % PAGES_PER_WRITER) * PAGE_SIZE;
                        parent.write(addr, token(id, seq));
                        completed.set(id, seq);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "writer-" + w);
            t.start();
            writers.add(t);
        }
        go.await();
        List<Mm> children = new ArrayList<>();
        for (int f = 0; f < FORKS; f++) {
            long[] low = new long[WRITERS];
            for (int w = 0; w < WRITERS; w++) {
                low[w] = completed.get(w);
            }
            Mm child = parent.fork();
            long[] high = new long[WRITERS];
            for (int w = 0; w < WRITERS; w++) {
                high[w] = started.get(w);
            }
            for (int w = 0; w < WRITERS; w++) {
                for (int p = 0; p < PAGES_PER_WRITER; p++) {
                    long value = child.read(regions[w] + (long) p * PAGE_SIZE);
                    if (value == 0) {
                        continue;
                    }
                    assertThat(value >>> 48).as("writer id of a child's token").isEqualTo(w);
                    long seq = value & 0xffffffffffffL;
                    assertThat(seq % PAGES_PER_WRITER).as("a token on its own page").isEqualTo(p);
                    // The newest token of page p written before the fork began must not be lost.
                    long newestBefore = low[w] - Math.floorMod(low[w] - p, PAGES_PER_WRITER);
                    assertThat(seq).as("token of page %d in child %d", p, f).isGreaterThanOrEqualTo(Math.max(0, newestBefore)).isLessThanOrEqualTo(high[w]);
                }
            }
            if (f % 2 == 0) {
                child.exit();
            } else {
                children.add(child);
            }
        }
        stop.set(true);
        for (Thread t : writers) {
            t.join();
        }
        assertThat(failures).isEmpty();
        for (int w = 0; w < WRITERS; w++) {
            long last = completed.get(w);
            for (long seq = Math.max(1, last - PAGES_PER_WRITER + 1); seq <= last; seq++) {
                long addr = regions[w] + (seq % PAGES_PER_WRITER) * PAGE_SIZE;
                assertThat(parent.read(addr)).as("parent keeps its last write").isEqualTo(token(w, seq));
            }
        }
        List<Mm> all = new ArrayList<>(children);
        all.add(parent);
        List<Violation> violations = InvariantChecker.check(all, List.of());
        assertThat(violations).isEmpty();
        for (Mm c : children) {
            c.exit();
        }
        parent.exit();
        assertThat(parent.allocator().livePages()).isEmpty();
    }

    private static long token(int writer, long seq) {
        return ((long) writer << 48) | seq;
    }
}
