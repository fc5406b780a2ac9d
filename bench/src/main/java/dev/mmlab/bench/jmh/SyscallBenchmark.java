package dev.mmlab.bench.jmh;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.mm.Mm;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-thread cost of the syscall side per strategy, in an address space of {@code vmas} other VMAs:
 * <ul>
 *   <li>{@code mmapMunmap}: mmap and munmap of 64 KiB of anonymous memory at a fixed address;</li>
 *   <li>{@code lockWriteRange} / {@code lockReadRange}: acquire and release the strategy's mm lock for one page
 *       through the SPI ({@code MmLock.lock(intent).close()}): the range lock of {@code rangelock}, the rwsem of
 *       {@code rwsem}, with no other work. Strategy classes are not named: only the SPI is used.</li>
 * </ul>
 */
@State(Scope.Thread)
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

    private Mm mm;
    private long at;

    @Setup(Level.Trial)
    public void setUp() {
        mm = BenchSupport.newMm(strategy);
        BenchSupport.backgroundVmas(mm, vmas);
        at = BenchSupport.WORK_BASE;
    }

    @Benchmark
    public long mmapMunmap() {
        long a = mm.mmapAnon(at, REGION, PROT_READ | PROT_WRITE, MAP_FIXED);
        mm.munmap(a, REGION);
        return a;
    }

    @Benchmark
    public long lockWriteRange() {
        LockIntent intent = LockIntent.of(OpKind.MPROTECT, LockIntent.Mode.WRITE, at, at + PAGE_SIZE);
        try (MmLockGuard guard = mm.mmLock().lock(intent)) {
            return guard.intent().start();
        }
    }

    @Benchmark
    public long lockReadRange() {
        LockIntent intent = LockIntent.of(OpKind.MADVISE, LockIntent.Mode.READ, at, at + PAGE_SIZE);
        try (MmLockGuard guard = mm.mmLock().lock(intent)) {
            return guard.intent().start();
        }
    }
}
