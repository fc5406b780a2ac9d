package dev.mmlab.speculative;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.speculative.SpecMm.aborts;
import static dev.mmlab.speculative.SpecMm.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.check.Violation;
import dev.mmlab.api.mm.Mm;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The races of speculative faults: a fault that found a VMA commits into it while a writer changes it. Each
 * round runs a faulting thread against a writer, then the checker; a probe yields between lookup and commit
 * now and then to widen the window. Each test also checks the race was really exercised (some faults
 * succeeded speculatively, some were aborted by the writer).
 */
class RaceTest {
    private static final int PAGES = 32;
    private static final Duration LIMIT = Duration.ofSeconds(30);

    /** Widen the window between lookup and commit on some faults. */
    static void widen(Mm mm) {
        SpecMm.probe(mm, (vma, addr) -> {
            int r = ThreadLocalRandom.current().nextInt(8);
            if (r == 0) {
                Thread.yield();
            } else if (r == 1) {
                for (int i = 0; i < 200; i++) {
                    Thread.onSpinWait();
                }
            }
        });
    }

    /** Runs {@code writer} on a second thread once {@code progress} reaches {@code after}; rethrows failures. */
    private static void runRound(Runnable faulter, Runnable writer, AtomicInteger progress, int after) throws Exception {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread w = new Thread(() -> {
            try {
                while (progress.get() < after) {
                    Thread.onSpinWait();
                }
                writer.run();
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        }, "writer");
        w.start();
        try {
            faulter.run();
        } finally {
            w.join();
        }
        if (failure.get() != null) {
            throw new AssertionError("writer failed", failure.get());
        }
    }

    private static void assertClean(Mm mm, int round) {
        List<Violation> violations = InvariantChecker.check(mm);
        assertThat(violations).as("round %d", round).isEmpty();
    }

    private static void assertExercised(Mm mm) {
        assertThat(count(mm, SpeculativeFaultHandler.SUCCESS)).as("speculative successes").isPositive();
        assertThat(aborts(mm, AbortReason.VMA_CHANGED) + aborts(mm, AbortReason.SEQ_ODD))
                .as("faults aborted by the racing writer").isPositive();
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void faultRacingMunmapNeverLeavesAPteBehind(String validation) {
        Mm mm = SpecMm.newMm(validation);
        widen(mm);
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int round = 0; round < 300; round++) {
                long a = mm.mmapAnon(0, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
                mm.write(a, 1); // anon identity, so writes can speculate
                AtomicInteger progress = new AtomicInteger();
                int after = ThreadLocalRandom.current().nextInt(PAGES / 2);
                runRound(() -> {
                    try {
                        for (int p = 1; p < PAGES; p++) {
                            mm.write(a + p * PAGE_SIZE, p);
                            progress.incrementAndGet();
                        }
                    } catch (MemoryAccessException expected) {
                        progress.set(PAGES); // unmapped under us: SEGV
                    }
                }, () -> mm.munmap(a, PAGES * PAGE_SIZE), progress, after);
                assertClean(mm, round);
                assertThat(mm.tree().size()).isZero();
                assertThat(mm.allocator().livePages()).as("round %d: pages left", round).isEmpty();
            }
        });
        assertExercised(mm);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void faultRacingMprotectNeverInstallsAWritablePteInAReadOnlyVma(String validation) {
        Mm mm = SpecMm.newMm(validation);
        widen(mm);
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int round = 0; round < 300; round++) {
                long a = mm.mmapAnon(0, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
                mm.write(a, 1);
                AtomicInteger progress = new AtomicInteger();
                long[] written = new long[PAGES];
                int after = ThreadLocalRandom.current().nextInt(PAGES / 2);
                runRound(() -> {
                    try {
                        for (int p = 1; p < PAGES; p++) {
                            long token = ((long) p << 20) | 0xbeef;
                            mm.write(a + p * PAGE_SIZE, token);
                            written[p] = token;
                            progress.incrementAndGet();
                        }
                    } catch (MemoryAccessException expected) {
                        progress.set(PAGES); // read-only now: SEGV_ACCERR
                    }
                }, () -> mm.mprotect(a, PAGES * PAGE_SIZE, PROT_READ), progress, after);
                assertClean(mm, round);
                for (int p = 1; p < PAGES; p++) {
                    assertThat(mm.read(a + p * PAGE_SIZE)).as("round %d page %d", round, p).isEqualTo(written[p]);
                }
                mm.munmap(a, PAGES * PAGE_SIZE);
            }
        });
        assertExercised(mm);
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void faultsRacingSplitAndMergeLoseNoWrite(String validation) {
        Mm mm = SpecMm.newMm(validation);
        widen(mm);
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int round = 0; round < 100; round++) {
                long a = mm.mmapAnon(0, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
                mm.write(a, 1);
                long middle = a + (PAGES / 2) * PAGE_SIZE;
                long[] written = new long[PAGES];
                AtomicInteger progress = new AtomicInteger();
                int r = round;
                runRound(() -> {
                    // Pages outside the middle page: their VMA is split away and merged back under them.
                    for (int pass = 0; pass < 4; pass++) {
                        for (int p = 1; p < PAGES; p++) {
                            if (p == PAGES / 2) {
                                continue;
                            }
                            long token = ((long) r << 32) | ((long) pass << 16) | p;
                            mm.write(a + p * PAGE_SIZE, token);
                            written[p] = token;
                            if (pass == 0 && p % 4 == 0) {
                                mm.madvise(a + p * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED); // fault it again later
                                written[p] = 0;
                            }
                            progress.incrementAndGet();
                        }
                    }
                }, () -> {
                    for (int i = 0; i < 10; i++) {
                        mm.mprotect(middle, PAGE_SIZE, PROT_READ); // split into three
                        mm.mprotect(middle, PAGE_SIZE, PROT_READ | PROT_WRITE); // merge back into one
                    }
                }, progress, 2);
                assertClean(mm, round);
                assertThat(mm.tree().size()).as("merged back").isEqualTo(1);
                for (int p = 1; p < PAGES; p++) {
                    if (p != PAGES / 2) {
                        assertThat(mm.read(a + p * PAGE_SIZE)).as("round %d page %d", round, p).isEqualTo(written[p]);
                    }
                }
                mm.munmap(a, PAGES * PAGE_SIZE);
            }
        });
        assertExercised(mm);
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void faultRacingMremapLosesNoWrite(String validation) {
        Mm mm = SpecMm.newMm(validation);
        widen(mm);
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int round = 0; round < 300; round++) {
                long a = mm.mmapAnon(0, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
                long target = mm.mmapAnon(0, PAGES * PAGE_SIZE, PROT_NONE, 0); // reserve a place to move to
                mm.write(a, 1);
                long[] written = new long[PAGES];
                written[0] = 1;
                AtomicInteger progress = new AtomicInteger();
                int after = ThreadLocalRandom.current().nextInt(PAGES / 2);
                runRound(() -> {
                    try {
                        for (int p = 1; p < PAGES; p++) {
                            long token = 0x1000L + p;
                            mm.write(a + p * PAGE_SIZE, token);
                            written[p] = token;
                            progress.incrementAndGet();
                        }
                    } catch (MemoryAccessException expected) {
                        progress.set(PAGES); // moved away: SEGV
                    }
                }, () -> mm.mremap(a, PAGES * PAGE_SIZE, PAGES * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, target),
                        progress, after);
                assertClean(mm, round);
                for (int p = 0; p < PAGES; p++) {
                    assertThat(mm.read(target + p * PAGE_SIZE)).as("round %d page %d after the move", round, p)
                            .isEqualTo(written[p]);
                }
                mm.munmap(target, PAGES * PAGE_SIZE);
            }
        });
        assertExercised(mm);
        assertThat(mm.allocator().livePages()).isEmpty();
    }
}
