package dev.mmlab.bench.jmh;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.mm.Mm;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-thread cost of the syscall side per strategy, in an address space of {@code vmas} other VMAs:
 * <ul>
 *   <li>{@code mmapMunmap}: mmap and munmap of 64 KiB of anonymous memory at a fixed address;</li>
 *   <li>{@code lockWriteRange} / {@code lockReadRange}: acquire and release the strategy's mm lock for one page
 *       through the SPI ({@code MmLock.lock(intent).close()}): the range lock of {@code rangelock}, the rwsem of
 *       {@code rwsem}, with no other work. Strategy classes are not named: only the SPI is used.</li>
 * </ul>
 * One address space serves every benchmark thread, each in its own 2 MiB slot: with JMH's {@code -t 2} two
 * threads work on disjoint ranges of the same mm, which a range lock lets through side by side and an mmap lock
 * serializes. {@code heldRanges} other one-page ranges, 2 MiB below every slot, are read-locked by parked threads for
 * the whole trial: what a range lock has to search past. Only a strategy whose syscalls lock ranges can hold
 * them while a writer gets its own range (rangelock); setup refuses the others, whose writer would wait forever.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The address space is the strategy's business; each benchmark thread claims
 *       its own 2 MiB slot once from an {@link AtomicInteger}. The holder threads are started and released in
 *       setup and teardown, which JMH runs on one thread; a latch says when all of them hold their range.</li>
 *   <li><b>Lock order.</b> One guard per thread at a time, as the SPI asks: a holder holds one read range for the
 *       whole trial, a benchmark thread one range per invocation.</li>
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SyscallBenchmark {
    static final long REGION = 64 * 1024;

    @Param({"rwsem"})
    public String strategy;

    @Param({"10", "1000"})
    public int vmas;

    /** Ranges other threads hold (read) while the benchmarks run; 0, or a strategy that locks ranges. */
    @Param({"0"})
    public int heldRanges;

    private Mm mm;
    private final AtomicInteger slots = new AtomicInteger();
    private CountDownLatch release;
    private final List<Thread> holders = new ArrayList<>();

    /** A benchmark thread's own slot of the shared address space. */
    @State(Scope.Thread)
    public static class Slot {
        long at;

        @Setup(Level.Trial)
        public void setUp(SyscallBenchmark b) {
            at = BenchSupport.WORK_BASE + b.slots.getAndIncrement() * PMD_SIZE;
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws InterruptedException {
        mm = BenchSupport.newMm(strategy);
        BenchSupport.backgroundVmas(mm, vmas);
        holdRanges();
    }

    /** Starts one parked thread per held range (the SPI lets a thread hold one guard of an mm at a time). */
    private void holdRanges() throws InterruptedException {
        release = new CountDownLatch(1);
        CountDownLatch held = new CountDownLatch(heldRanges);
        AtomicReference<CoarseHold> coarse = new AtomicReference<>();
        for (int i = 0; i < heldRanges; i++) {
            long start = BenchSupport.WORK_BASE - PMD_SIZE - 2L * (i + 1) * PAGE_SIZE;
            Thread t = new Thread(() -> {
                try (MmLockGuard g = mm.mmLock().lock(LockIntent.of(OpKind.MADVISE, LockIntent.Mode.READ, start, start + PAGE_SIZE))) {
                    if (g.coarseHold() != CoarseHold.NONE) {
                        coarse.set(g.coarseHold());
                    }
                    held.countDown();
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "range-holder-" + i);
            t.setDaemon(true);
            t.start();
            holders.add(t);
        }
        if (!held.await(10, TimeUnit.SECONDS)) {
            tearDown();
            throw new IllegalStateException(heldRanges + " read ranges could not all be held within 10 s under " + strategy);
        }
        if (coarse.get() != null) {
            tearDown();
            throw new IllegalStateException("heldRanges needs a strategy whose syscalls lock ranges (rangelock): "
                    + strategy + " holds " + coarse.get() + " for one page, so lockWriteRange would wait forever");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        if (release != null) {
            release.countDown();
        }
        for (Thread t : holders) {
            t.join();
        }
        holders.clear();
    }

    @Benchmark
    public long mmapMunmap(Slot slot) {
        long a = mm.mmapAnon(slot.at, REGION, PROT_READ | PROT_WRITE, MAP_FIXED);
        mm.munmap(a, REGION);
        return a;
    }

    @Benchmark
    public long lockWriteRange(Slot slot) {
        LockIntent intent = LockIntent.of(OpKind.MPROTECT, LockIntent.Mode.WRITE, slot.at, slot.at + PAGE_SIZE);
        try (MmLockGuard guard = mm.mmLock().lock(intent)) {
            return guard.intent().start();
        }
    }

    @Benchmark
    public long lockReadRange(Slot slot) {
        LockIntent intent = LockIntent.of(OpKind.MADVISE, LockIntent.Mode.READ, slot.at, slot.at + PAGE_SIZE);
        try (MmLockGuard guard = mm.mmLock().lock(intent)) {
            return guard.intent().start();
        }
    }
}
