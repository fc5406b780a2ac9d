package dev.mmlab.pervma;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.testing.TestThread;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Four threads for about 3 s per form, each with its own region (faults, reads and writes with tokens,
 * mmap, munmap, mprotect) and slots in one shared region (writes and reads, plus mprotect flipping PROT_EXEC
 * so the shared VMA splits and merges under the others' faults), and /proc/pid/maps reads. Each thread
 * keeps an exact model of its own memory and checks every read against it; afterwards every token is read
 * back and the invariant checker must find nothing.
 */
class RandomWorkloadTest {
    private static final int THREADS = 4;
    private static final int OWN_PAGES = 32;
    private static final int SHARED_PAGES = 64;
    private static final long BASE = 0x2000_0000L;
    private static final long SHARED = BASE + (long) THREADS * 256 * PAGE_SIZE;
    private static final long RUN_NANOS = TimeUnit.MILLISECONDS.toNanos(3000);

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void randomWorkloadLosesNoWriteAndLeavesNoViolation(String form) {
        assertTimeoutPreemptively(Duration.ofSeconds(40), () -> {
            Mm mm = PerVmaTesting.newMm(form);
            mm.mmapAnon(SHARED, SHARED_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
            Model[] models = new Model[THREADS];
            TestThread[] workers = new TestThread[THREADS];
            long deadline = System.nanoTime() + RUN_NANOS;
            for (int t = 0; t < THREADS; t++) {
                Model m = new Model(t);
                models[t] = m;
                mm.mmapAnon(m.base, OWN_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                workers[t] = TestThread.start("worker-" + t, () -> m.run(mm, deadline));
            }
            for (TestThread w : workers) {
                w.finish();
            }
            long ops = 0;
            for (Model m : models) {
                m.verifyAll(mm);
                ops += m.ops;
            }
            assertThat(ops).isGreaterThan(1000);
            assertThat(mm.counters().get("pervma.success")).isPositive();
            assertThat(PerVmaTesting.check(mm)).isEmpty();
            mm.exit();
            assertThat(PerVmaTesting.check(mm)).isEmpty();
            assertThat(mm.allocator().livePages()).isEmpty();
        });
    }

    /** One thread's exact view of its own region and its slots in the shared region. */
    private static final class Model {
        final int id;
        final long base;
        final boolean[] mapped = new boolean[OWN_PAGES];
        final boolean[] writable = new boolean[OWN_PAGES];
        final long[] value = new long[OWN_PAGES];
        final long[] shared = new long[SHARED_PAGES];
        final SplittableRandom rnd;
        long ops;

        Model(int id) {
            this.id = id;
            this.base = BASE + (long) id * 256 * PAGE_SIZE;
            this.rnd = new SplittableRandom(42 + id);
            java.util.Arrays.fill(mapped, true);
            java.util.Arrays.fill(writable, true);
        }

        long own(int p) {
            return base + (long) p * PAGE_SIZE;
        }

        void run(Mm mm, long deadline) {
            while (System.nanoTime() < deadline) {
                ops++;
                int r = rnd.nextInt(100);
                int p = rnd.nextInt(OWN_PAGES);
                if (r < 35) {
                    long token = rnd.nextLong();
                    try {
                        mm.write(own(p), token);
                        assertThat(mapped[p] && writable[p]).as("write to %x succeeded", own(p)).isTrue();
                        value[p] = token;
                    } catch (MemoryAccessException e) {
                        assertThat(e.outcome()).isEqualTo(!mapped[p] ? FaultOutcome.SEGV : FaultOutcome.ACCESS);
                        assertThat(mapped[p] && writable[p]).isFalse();
                    }
                } else if (r < 55) {
                    checkOwn(mm, p);
                } else if (r < 72) {
                    int s = slot();
                    long token = rnd.nextLong();
                    mm.write(SHARED + (long) s * PAGE_SIZE, token);
                    shared[s] = token;
                } else if (r < 80) {
                    int s = slot();
                    assertThat(mm.read(SHARED + (long) s * PAGE_SIZE)).isEqualTo(shared[s]);
                } else if (r < 85) {
                    int len = 1 + rnd.nextInt(Math.min(8, OWN_PAGES - p));
                    mm.munmap(own(p), len * PAGE_SIZE);
                    for (int i = p; i < p + len; i++) {
                        mapped[i] = false;
                        value[i] = 0;
                    }
                } else if (r < 90) {
                    int len = 1 + rnd.nextInt(Math.min(8, OWN_PAGES - p));
                    mm.mmapAnon(own(p), len * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                    for (int i = p; i < p + len; i++) {
                        mapped[i] = true;
                        writable[i] = true;
                        value[i] = 0;
                    }
                } else if (r < 95) {
                    int len = 1 + rnd.nextInt(Math.min(8, OWN_PAGES - p));
                    boolean allMapped = true;
                    for (int i = p; i < p + len; i++) {
                        allMapped &= mapped[i];
                    }
                    if (allMapped) {
                        boolean w = rnd.nextBoolean();
                        mm.mprotect(own(p), len * PAGE_SIZE, w ? PROT_READ | PROT_WRITE : PROT_READ);
                        for (int i = p; i < p + len; i++) {
                            writable[i] = w;
                        }
                    }
                } else if (r < 98) {
                    int from = rnd.nextInt(SHARED_PAGES);
                    int len = 1 + rnd.nextInt(SHARED_PAGES - from);
                    int prot = PROT_READ | PROT_WRITE | (rnd.nextBoolean() ? PROT_EXEC : 0);
                    mm.mprotect(SHARED + (long) from * PAGE_SIZE, len * PAGE_SIZE, prot);
                } else {
                    assertThat(mm.procMaps()).isNotEmpty();
                }
            }
        }

        private int slot() {
            return rnd.nextInt(SHARED_PAGES / THREADS) * THREADS + id;
        }

        private void checkOwn(Mm mm, int p) {
            try {
                assertThat(mm.read(own(p))).as("page %x", own(p)).isEqualTo(value[p]);
                assertThat(mapped[p]).isTrue();
            } catch (MemoryAccessException e) {
                assertThat(e.outcome()).isEqualTo(FaultOutcome.SEGV);
                assertThat(mapped[p]).isFalse();
            }
        }

        void verifyAll(Mm mm) {
            for (int p = 0; p < OWN_PAGES; p++) {
                checkOwn(mm, p);
            }
            for (int s = id; s < SHARED_PAGES; s += THREADS) {
                assertThat(mm.read(SHARED + (long) s * PAGE_SIZE)).isEqualTo(shared[s]);
            }
        }
    }
}
