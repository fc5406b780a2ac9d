package dev.mmlab.it.drivers;

import static dev.mmlab.api.Linux.MAP_FIXED;
import static dev.mmlab.api.Linux.MAP_SHARED;
import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PROT_READ;
import static dev.mmlab.api.Linux.PROT_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.drivers.LegacyFramebufferDriver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The shipped legacy frame buffer declares fault COARSE_READ and close COARSE_WRITE and asserts both inside
 * the driver: under every strategy, with faults from several threads racing munmaps that split and close its
 * VMAs, no assertion may fail.
 */
class CoarseDeclaredDriverTest {
    static final long FB = 0x20000000L;
    static final long ANON = 0x10000000L;
    static final int PAGES = 64;
    static final int ROUNDS = 5;

    static List<StrategyCase> strategies() {
        return StrategyCase.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("strategies")
    void legacyFbCallbacksAlwaysRunUnderTheDeclaredCoarseLock(StrategyCase s) {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            for (int round = 0; round < ROUNDS; round++) {
                runRound(s);
            }
        });
    }

    private void runRound(StrategyCase s) throws Exception {
        Mm mm = s.newMm();
        LegacyFramebufferDriver fb = new LegacyFramebufferDriver(PAGES * PAGE_SIZE);
        mm.mmapDriver(FB, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fb, 0);
        mm.mmapAnon(ANON, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
        int faulters = 3;
        CyclicBarrier start = new CyclicBarrier(faulters + 1);
        Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < faulters; t++) {
            int id = t;
            threads.add(new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < PAGES; i++) {
                        int p = (i * 7 + id * 13) % PAGES;
                        FaultOutcome o = mm.fault(FB + p * PAGE_SIZE, Access.READ);
                        // Pages 32..47 are being unmapped by the other thread.
                        if (o != FaultOutcome.MAPPED && !(o == FaultOutcome.SEGV && p >= 32 && p < 48)) {
                            errors.add(new AssertionError("fb fault at page " + p + ": " + o));
                        }
                        assertThat(mm.fault(ANON + p * PAGE_SIZE, Access.WRITE)).isEqualTo(FaultOutcome.MAPPED);
                    }
                } catch (Throwable e) {
                    errors.add(e);
                }
            }, "faulter-" + t));
        }
        threads.add(new Thread(() -> {
            try {
                start.await();
                // Each munmap splits the frame buffer: close of the old VMA (write lock), open of the pieces.
                for (int p = 32; p < 48; p += 2) {
                    mm.munmap(FB + p * PAGE_SIZE, 2 * PAGE_SIZE);
                }
            } catch (Throwable e) {
                errors.add(e);
            }
        }, "unmapper"));
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        assertThat(errors).isEmpty();
        assertThat(mm.read(FB + 3 * PAGE_SIZE)).isEqualTo(LegacyFramebufferDriver.scanout(3));
        assertThat(mm.counters().get("driver.legacy-fb.assert")).isPositive();
        assertThat(mm.counters().get("driver.legacy-fb.assert_failed")).isZero();
        assertThat(fb.closeCount()).as("one close per munmap that split the frame buffer").isEqualTo(8);
        if (s.isTestStrategy()) {
            // A fine-grained attempt lacks COARSE_READ: every fault that reached the driver fell back first.
            assertThat(mm.counters().get("fault.driver_fallback.legacy-fb")).isGreaterThanOrEqualTo(fb.faultCount());
        }
        if (s.isRwsem()) {
            // rwsem's faults always hold the mmap read lock: the driver never makes them fall back.
            assertThat(mm.counters().get("fault.driver_fallback.legacy-fb")).isZero();
        }
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.exit();
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.allocator().livePages()).isEmpty();
    }
}
