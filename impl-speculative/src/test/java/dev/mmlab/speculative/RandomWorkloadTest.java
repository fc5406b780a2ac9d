package dev.mmlab.speculative;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Four threads for about 3 s per validation mode, each with its own region and one region shared by all,
 * all carved from one initial VMA so that every thread's mprotect, munmap and mmap splits and merges VMAs
 * its neighbours are faulting in. Own regions carry tokens: every read must return the last token written
 * there (or zero after DONTNEED or a remap), so a lost write fails the test. The checker runs after. As in
 * {@link RaceTest}, some faults yield between lookup and commit, so that writers land in their window.
 */
class RandomWorkloadTest {
    private static final Logger LOG = LoggerFactory.getLogger(RandomWorkloadTest.class);
    private static final int THREADS = 4;
    private static final int OWN = 32;
    private static final int SHARED = 64;
    private static final long RUN_NANOS = 3_000_000_000L;

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void randomWorkloadKeepsInvariantsAndLosesNoWrite(String validation) {
        Mm mm = SpecMm.newMm(validation);
        RaceTest.widen(mm);
        long base = mm.mmapAnon(0, (THREADS * OWN + SHARED) * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        long shared = base + THREADS * OWN * PAGE_SIZE;
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Worker> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            workers.add(new Worker(mm, t, base + (long) t * OWN * PAGE_SIZE, shared, failures));
        }
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            List<Thread> threads = new ArrayList<>();
            for (Worker w : workers) {
                Thread th = new Thread(w, "worker-" + w.id);
                threads.add(th);
                th.start();
            }
            for (Thread th : threads) {
                th.join();
            }
        });
        assertThat(failures).isEmpty();
        assertThat(InvariantChecker.check(mm)).isEmpty();
        for (Worker w : workers) {
            w.verifyAll();
        }
        assertThat(failures).isEmpty();
        Map<String, Long> spec = mm.counters().snapshot(SpeculativeFaultHandler.PREFIX);
        LOG.info("{}: {} ops, {}", validation, workers.stream().mapToLong(w -> w.ops).sum(), spec);
        // Aborts by racing writers are rare here on two cores (RaceTest forces them); successes are not.
        assertThat(spec.getOrDefault(SpeculativeFaultHandler.SUCCESS, 0L)).isPositive();
        assertThat(spec.getOrDefault(SpeculativeFaultHandler.FALLBACK, 0L)).isPositive();
        mm.exit();
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    private static final class Worker implements Runnable {
        final Mm mm;
        final int id;
        final long own;
        final long shared;
        final long[] expected = new long[OWN];
        final ConcurrentLinkedQueue<Throwable> failures;
        final SplittableRandom random;
        long next;
        long ops;

        Worker(Mm mm, int id, long own, long shared, ConcurrentLinkedQueue<Throwable> failures) {
            this.mm = mm;
            this.id = id;
            this.own = own;
            this.shared = shared;
            this.failures = failures;
            this.random = new SplittableRandom(1234 + id);
        }

        long ownPage(int p) {
            return own + (long) p * PAGE_SIZE;
        }

        void check(int p) {
            long got = mm.read(ownPage(p));
            if (got != expected[p]) {
                throw new AssertionError("worker " + id + " page " + p + ": read " + Long.toHexString(got)
                        + ", last written " + Long.toHexString(expected[p]));
            }
        }

        void verifyAll() {
            try {
                for (int p = 0; p < OWN; p++) {
                    check(p);
                }
            } catch (Throwable t) {
                failures.add(t);
            }
        }

        @Override
        public void run() {
            long deadline = System.nanoTime() + RUN_NANOS;
            try {
                while (System.nanoTime() < deadline) {
                    for (int i = 0; i < 32; i++, ops++) {
                        step();
                    }
                }
            } catch (Throwable t) {
                failures.add(t);
            }
        }

        private void step() {
            int op = random.nextInt(100);
            int p = random.nextInt(OWN);
            int n = 1 + random.nextInt(Math.min(4, OWN - p));
            if (op < 35) {
                long token = ((long) (id + 1) << 48) | ++next;
                mm.write(ownPage(p), token);
                expected[p] = token;
            } else if (op < 55) {
                check(p);
            } else if (op < 60) {
                mm.madvise(ownPage(p), n * PAGE_SIZE, MADV_DONTNEED);
                for (int i = p; i < p + n; i++) {
                    expected[i] = 0;
                }
            } else if (op < 65) {
                mm.mprotect(ownPage(p), n * PAGE_SIZE, PROT_READ);
                for (int i = p; i < p + n; i++) {
                    check(i);
                }
                mm.mprotect(ownPage(p), n * PAGE_SIZE, PROT_READ | PROT_WRITE);
            } else if (op < 70) {
                // MAP_FIXED replaces in one step: a hole would let another thread's scratch mmap land there.
                mm.mmapAnon(ownPage(p), n * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                for (int i = p; i < p + n; i++) {
                    expected[i] = 0;
                }
            } else if (op < 72) {
                long scratch = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
                mm.write(scratch + PAGE_SIZE, 9);
                mm.munmap(scratch, 4 * PAGE_SIZE);
            } else {
                sharedStep(op);
            }
        }

        private void sharedStep(int op) {
            int p = random.nextInt(SHARED);
            int n = 1 + random.nextInt(Math.min(8, SHARED - p));
            long addr = shared + (long) p * PAGE_SIZE;
            try {
                if (op < 88) {
                    mm.write(addr, random.nextLong());
                } else if (op < 93) {
                    mm.read(addr);
                } else if (op < 96) {
                    mm.mprotect(addr, n * PAGE_SIZE, random.nextBoolean() ? PROT_READ : PROT_READ | PROT_WRITE);
                } else if (op < 98) {
                    mm.madvise(addr, n * PAGE_SIZE, MADV_DONTNEED);
                } else {
                    mm.mmapAnon(addr, n * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                }
            } catch (MemoryAccessException expected) {
                if (expected.outcome() != dev.mmlab.api.FaultOutcome.ACCESS) {
                    throw expected;
                }
                // Another thread made it read-only for a moment: SEGV_ACCERR is the right answer.
            }
        }
    }
}
