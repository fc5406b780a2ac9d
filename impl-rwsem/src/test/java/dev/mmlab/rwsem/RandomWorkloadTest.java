package dev.mmlab.rwsem;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.testing.TestMms;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.RepeatedTest;

/**
 * Four threads, each changing its own 64-page window (mmap, munmap, mprotect, madvise, mremap, reads and
 * writes of tokens, GUP) and sharing one MAP_SHARED anonymous region, plus brk and /proc readers. Each thread
 * keeps a model of its window; every token written to a page that was never unmapped must read back, and
 * the invariant checker must find nothing at the end.
 */
class RandomWorkloadTest {
    static final long P = PAGE_SIZE;
    static final int PAGES = 64;
    static final long BASE = 0x7e0000000000L;
    static final long WINDOW = 4L << 20;
    static final int THREADS = 4;

    /** One thread's model of its window: mapped, writable, and the token each page must hold (0: zero page). */
    static final class Model {
        final boolean[] mapped = new boolean[PAGES];
        final boolean[] writable = new boolean[PAGES];
        final long[] token = new long[PAGES];

        boolean allMapped(int from, int n) {
            for (int i = from; i < from + n; i++) {
                if (!mapped[i]) {
                    return false;
                }
            }
            return true;
        }
    }

    @RepeatedTest(2)
    void randomWorkloadLosesNoWriteAndLeavesNoViolation() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            Mm mm = TestMms.create(new RwsemStrategy());
            long shared = mm.mmap(0, THREADS * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, null, 0);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            long deadline = System.nanoTime() + 2_500_000_000L;
            long seed = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            Model[] models = new Model[THREADS];
            long[] sharedTokens = new long[THREADS];
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                models[t] = new Model();
                threads.add(new Thread(() -> {
                    try {
                        run(mm, id, models[id], shared, sharedTokens, new SplittableRandom(seed + id), deadline);
                    } catch (Throwable e) {
                        failure.compareAndSet(null, new AssertionError("thread " + id + " seed " + (seed + id), e));
                    }
                }, "worker-" + t));
            }
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                t.join();
            }
            if (failure.get() != null) {
                throw failure.get();
            }
            for (int t = 0; t < THREADS; t++) {
                long base = BASE + t * WINDOW;
                for (int i = 0; i < PAGES; i++) {
                    if (models[t].mapped[i]) {
                        assertThat(mm.read(base + i * P)).as("thread %d page %d", t, i).isEqualTo(models[t].token[i]);
                    }
                }
                assertThat(mm.read(shared + t * P)).isEqualTo(sharedTokens[t]);
            }
            assertThat(InvariantChecker.check(mm)).isEmpty();
            for (String op : new String[] {"mmap.ok", "munmap.ok", "mprotect.ok", "mremap.ok", "madvise.ok", "gup.ok",
                    "brk.ok", "fault.MAPPED"}) {
                assertThat(mm.counters().get(op)).as(op).isGreaterThan(10);
            }
            mm.exit();
            assertThat(InvariantChecker.check(mm)).isEmpty();
        });
    }

    private static void run(Mm mm, int id, Model m, long shared, long[] sharedTokens, SplittableRandom r,
            long deadline) {
        long base = BASE + id * WINDOW;
        long next = ((long) id << 40) + 1;
        while (System.nanoTime() < deadline) {
            int from = r.nextInt(PAGES);
            int n = 1 + r.nextInt(Math.min(8, PAGES - from));
            long addr = base + from * P;
            switch (r.nextInt(12)) {
                case 0 -> {
                    boolean rw = r.nextBoolean();
                    mm.mmapAnon(addr, n * P, rw ? PROT_READ | PROT_WRITE : PROT_READ, MAP_FIXED);
                    for (int i = from; i < from + n; i++) {
                        m.mapped[i] = true;
                        m.writable[i] = rw;
                        m.token[i] = 0;
                    }
                }
                case 1 -> {
                    mm.munmap(addr, n * P);
                    for (int i = from; i < from + n; i++) {
                        m.mapped[i] = false;
                    }
                }
                case 2 -> {
                    if (m.allMapped(from, n)) {
                        boolean rw = r.nextBoolean();
                        mm.mprotect(addr, n * P, rw ? PROT_READ | PROT_WRITE : PROT_READ);
                        for (int i = from; i < from + n; i++) {
                            m.writable[i] = rw;
                        }
                    }
                }
                case 3 -> {
                    if (m.allMapped(from, n)) {
                        mm.madvise(addr, n * P, MADV_DONTNEED);
                        for (int i = from; i < from + n; i++) {
                            m.token[i] = 0;
                        }
                    }
                }
                case 4 -> {
                    int to = r.nextInt(PAGES - n + 1);
                    if (m.allMapped(from, n) && (to + n <= from || from + n <= to)) {
                        mm.mremap(addr, n * P, n * P, MREMAP_MAYMOVE | MREMAP_FIXED, base + to * P);
                        for (int i = 0; i < n; i++) {
                            m.mapped[to + i] = true;
                            m.writable[to + i] = m.writable[from + i];
                            m.token[to + i] = m.token[from + i];
                        }
                        for (int i = from; i < from + n; i++) {
                            m.mapped[i] = false;
                        }
                    }
                }
                case 5, 6, 7 -> {
                    if (m.mapped[from] && m.writable[from]) {
                        long token = next++;
                        mm.write(addr, token);
                        m.token[from] = token;
                    }
                }
                case 8 -> {
                    if (m.mapped[from]) {
                        assertThat(mm.read(addr)).as("page %d", from).isEqualTo(m.token[from]);
                    }
                }
                case 9 -> {
                    if (m.mapped[from] && m.writable[from]) {
                        List<Page> pinned = mm.getUserPages(addr, 1, true);
                        assertThat(pinned.get(0).content()).isEqualTo(m.token[from]);
                        mm.unpinUserPages(pinned);
                    }
                }
                case 10 -> {
                    long token = next++;
                    mm.write(shared + id * P, token);
                    sharedTokens[id] = token;
                    mm.read(shared + r.nextInt(THREADS) * P);
                    if (r.nextInt(4) == 0) {
                        mm.madvise(shared + id * P, P, MADV_DONTNEED);
                    }
                }
                default -> {
                    assertThat(mm.procMaps()).isNotEmpty();
                    if (id == 0) {
                        try {
                            mm.brk(mm.startBrk() + r.nextInt(16) * P);
                        } catch (ErrnoException e) {
                            throw new AssertionError("brk never fails with an errno", e);
                        }
                    }
                }
            }
        }
    }
}
