package dev.mmlab.conformance;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.OpKind;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.stats.LockWait;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Threads that never touch each other's memory: each works in its own region, 64 MiB from the next, so no
 * merge or widened lock range can reach another thread's VMA. Each region has a stable part (mapped and
 * faulted once before the run, then only written and zapped with DONTNEED, so its VMA never changes) and a
 * churn part (mmap, write, mprotect, munmap in a loop), with a gap between them so the churn never merges
 * with the stable VMA. Every wait recorded during the run is a false conflict by construction; the run
 * counts them, and separately the waits of faults on the stable VMAs.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The address space protects itself (it is under test); each thread touches
 *       only its own region. The tallies are atomic; the first failure and the first example are kept by CAS
 *       in {@link AtomicReference}s; the report is read after every thread was joined. The wait recorder is
 *       reset before the threads start.</li>
 *   <li><b>Lock order.</b> none of its own. The wait listener runs on a waiting thread that may hold locks of
 *       the mm, so it only touches atomics.</li>
 * </ul>
 */
public final class DisjointWorkload {
    /** What one run measured. */
    public record Report(String strategy, long ops, long waits, long falseConflicts, long falseFaultWaitsOnStableVmas,
            String example) {
        @Override
        public String toString() {
            return String.format("%s: %d ops, %d waits, %d false conflicts, %d of them faults on stable VMAs%s",
                    strategy, ops, waits, falseConflicts, falseFaultWaitsOnStableVmas,
                    example == null ? "" : "; e.g. " + example);
        }
    }

    static final long BASE = 0x200000000L;
    static final long STRIDE = 64L << 20;
    static final int STABLE_PAGES = 64;
    static final long CHURN_OFFSET = 8L << 20;
    static final int CHURN_PAGES = 16;

    private DisjointWorkload() {}

    /** Run {@code threads} threads for {@code duration} on a fresh address space of {@code sut}. */
    public static Report run(StrategyUnderTest sut, int threads, Duration duration) throws InterruptedException {
        Mm mm = sut.newMm();
        for (int t = 0; t < threads; t++) {
            long stable = BASE + t * STRIDE;
            mm.mmap(stable, STABLE_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
            for (int i = 0; i < STABLE_PAGES; i++) {
                mm.write(stable + i * PAGE_SIZE, 1);
            }
        }
        AtomicLong stableFaultWaits = new AtomicLong();
        AtomicReference<String> example = new AtomicReference<>();
        mm.waits().reset();
        mm.waits().addListener(w -> {
            if (w.falseConflict()) {
                example.compareAndSet(null, describe(w));
                if (w.waiter().op() == OpKind.FAULT && isStable(w.waiter().footprintStart(), threads)) {
                    stableFaultWaits.incrementAndGet();
                }
            }
        });
        AtomicLong ops = new AtomicLong();
        long end = System.nanoTime() + duration.toNanos();
        List<Thread> list = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int t = 0; t < threads; t++) {
            long stable = BASE + t * STRIDE;
            long churn = stable + CHURN_OFFSET;
            int id = t;
            list.add(new Thread(() -> {
                try {
                    long n = 0;
                    while (System.nanoTime() < end) {
                        // Faults on the stable VMA: zap a page, then write it again (a fresh anonymous fault).
                        for (int i = 0; i < 8; i++) {
                            long p = stable + ((n * 8 + i) % STABLE_PAGES) * PAGE_SIZE;
                            mm.write(p, n);
                        }
                        mm.madvise(stable + (n % STABLE_PAGES) * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED);
                        // Layout churn in the thread's own region.
                        mm.mmap(churn, CHURN_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
                        mm.write(churn, id);
                        mm.mprotect(churn, PAGE_SIZE, PROT_READ);
                        mm.munmap(churn, CHURN_PAGES * PAGE_SIZE);
                        n++;
                        ops.addAndGet(13);
                        Watchdog.progress();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "disjoint-" + t));
        }
        list.forEach(Thread::start);
        for (Thread t : list) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(sut.label() + ": disjoint worker failed", failure.get());
        }
        return new Report(sut.label(), ops.get(), mm.waits().count(), mm.waits().falseConflicts(), stableFaultWaits.get(),
                example.get());
    }

    private static boolean isStable(long addr, int threads) {
        for (int t = 0; t < threads; t++) {
            long s = BASE + t * STRIDE;
            if (addr >= s && addr < s + STABLE_PAGES * PAGE_SIZE) {
                return true;
            }
        }
        return false;
    }

    private static String describe(LockWait w) {
        return w.waiter() + " waited on " + w.lockName() + " behind " + w.blockers();
    }
}
