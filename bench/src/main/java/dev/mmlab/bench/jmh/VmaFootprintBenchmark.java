package dev.mmlab.bench.jmh;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmFlags;
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
 * The memory one anonymous VMA costs under each strategy: the {@link Vma} object, its anonymous identity (an
 * anon_vma, made at its first write fault) and the strategy's per-VMA state ({@code newVmaState()}: the VMA
 * lock of {@code pervma}, the sequence count of {@code speculative}, nothing under {@code rwsem}), all of which
 * the VMA keeps for its lifetime and nothing else does. {@code newAnonVma} allocates exactly those, so JMH's
 * allocation profiler gives the bytes per VMA: {@code mmlab jmh VmaFootprintBenchmark -prof gc}, figure
 * {@code gc.alloc.rate.norm} (B/op); the time per operation is incidental.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class VmaFootprintBenchmark {
    private static final long FLAGS = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE;

    @Param({"rwsem"})
    public String strategy;

    private Mm mm;

    @Setup(Level.Trial)
    public void setUp() {
        mm = BenchSupport.newMm(strategy);
    }

    @Benchmark
    public Vma newAnonVma() {
        long start = BenchSupport.WORK_BASE;
        return new Vma(start, start + PAGE_SIZE, FLAGS, start >>> PAGE_SHIFT, null, null, new AnonIdentity(),
                mm.parts().newVmaState());
    }
}
