package dev.mmlab.bench.jmh;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.Access;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Single-thread page-fault cost per strategy, in an address space of {@code vmas} other VMAs:
 * <ul>
 *   <li>{@code anonFault}: a write fault on a fresh anonymous page (allocation + PTE install);</li>
 *   <li>{@code fileFault}: a read fault on a private file mapping whose page is in the page cache;</li>
 *   <li>{@code mappedPageFault}: a fault on a page already mapped (a spurious fault): the strategy's locking
 *       alone, e.g. the per-VMA read trylock of {@code pervma} or the mmap read lock of {@code rwsem}.</li>
 * </ul>
 * Each invocation faults every page of a 2 MiB region, then drops them with MADV_DONTNEED (that cost is
 * included, spread over the 512 faults).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FaultBenchmark {
    static final int PAGES = 512;

    /** A strategy spec as discovered; {@code mmlab jmh} sets every discovered one unless {@code -p strategy=} is given. */
    @Param({"rwsem"})
    public String strategy;

    @Param({"10", "1000", "100000"})
    public int vmas;

    private Mm mm;
    private long anon;
    private long file;
    private long mapped;

    @Setup(Level.Trial)
    public void setUp() {
        mm = BenchSupport.newMm(strategy);
        BenchSupport.backgroundVmas(mm, vmas);
        long bytes = PAGES * PAGE_SIZE;
        anon = mm.mmapAnon(BenchSupport.WORK_BASE, bytes, PROT_READ | PROT_WRITE, MAP_FIXED);
        BackingFile f = BackingFile.regular("/data/bench", 7, bytes, BlockDevice.instant("ram", 1, 0), mm.allocator());
        file = mm.mmap(BenchSupport.WORK_BASE + 2 * PMD_SIZE, bytes, PROT_READ, MAP_PRIVATE | MAP_FIXED,
                OpenFile.readOnly(f), 0);
        mapped = mm.mmapAnon(BenchSupport.WORK_BASE + 4 * PMD_SIZE, bytes, PROT_READ | PROT_WRITE, MAP_FIXED);
        for (int i = 0; i < PAGES; i++) {
            mm.read(file + i * PAGE_SIZE);
            mm.write(mapped + i * PAGE_SIZE, i);
        }
        mm.madvise(file, bytes, MADV_DONTNEED);
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long anonFault() {
        long sum = 0;
        for (int i = 0; i < PAGES; i++) {
            sum += mm.fault(anon + i * PAGE_SIZE, Access.WRITE).ordinal();
        }
        mm.madvise(anon, PAGES * PAGE_SIZE, MADV_DONTNEED);
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long fileFault() {
        long sum = 0;
        for (int i = 0; i < PAGES; i++) {
            sum += mm.fault(file + i * PAGE_SIZE, Access.READ).ordinal();
        }
        mm.madvise(file, PAGES * PAGE_SIZE, MADV_DONTNEED);
        return sum;
    }

    @Benchmark
    @OperationsPerInvocation(PAGES)
    public long mappedPageFault() {
        long sum = 0;
        for (int i = 0; i < PAGES; i++) {
            sum += mm.fault(mapped + i * PAGE_SIZE, Access.READ).ordinal();
        }
        return sum;
    }

}
