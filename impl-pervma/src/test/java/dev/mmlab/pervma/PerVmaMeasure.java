package dev.mmlab.pervma;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.Strategies;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.openjdk.jol.info.GraphLayout;

/**
 * A throwaway measuring harness for issue 5, pervma (both lock forms) against rwsem in one JVM:
 * <ol>
 *   <li>single-thread anonymous write-fault cost (median of measured rounds, rounds interleaved);</li>
 *   <li>bytes per VMA with its lock state (JOL {@code GraphLayout.totalSize});</li>
 *   <li>a fault-plus-mmap workload: one thread write-faults a 16 MiB region again and again (zapped with
 *       MADV_DONTNEED between passes), another runs mmap/write/munmap on a disjoint range; reports the
 *       per-VMA lock counters, the fault latency percentiles (HdrHistogram) and the mmap loop rate.</li>
 * </ol>
 * Run: {@code java -cp target/classes:target/test-classes:DEPS dev.mmlab.pervma.PerVmaMeasure [seconds]}.
 * Prints to standard output: this is a command-line harness, not library code.
 */
public final class PerVmaMeasure {
    private static final List<String> SPECS = List.of("rwsem", "pervma:lock=rwsem", "pervma:lock=refcount");
    private static final PrintStream OUT = System.out;

    private PerVmaMeasure() {}

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        Strategies strategies = Strategies.discover();
        OUT.printf("mmlab pervma measurements; %d CPUs; java %s%n", Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"));
        faultCost(strategies);
        bytesPerVma(strategies);
        for (String spec : SPECS) {
            workload(strategies, spec, seconds);
        }
    }

    private static Mm newMm(Strategies strategies, String spec) {
        return Mm.create(strategies.select(spec), MmConfig.defaults().withChecking(false));
    }

    private static void faultCost(Strategies strategies) {
        int pages = 16384;
        int warmup = 4;
        int measured = 7;
        Map<String, List<Double>> results = new LinkedHashMap<>();
        for (String spec : SPECS) {
            results.put(spec, new ArrayList<>());
        }
        for (int round = 0; round < warmup + measured; round++) {
            for (String spec : SPECS) {
                Mm mm = newMm(strategies, spec);
                long a = mm.mmapAnon(0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
                mm.write(a, 1); // the anon identity: every later fault is an ordinary anon fault
                long t0 = System.nanoTime();
                for (int p = 1; p < pages; p++) {
                    mm.write(a + p * PAGE_SIZE, p);
                }
                double ns = (System.nanoTime() - t0) / (double) (pages - 1);
                mm.exit();
                if (round >= warmup) {
                    results.get(spec).add(ns);
                }
            }
        }
        double base = median(results.get("rwsem"));
        OUT.printf("%n1. single-thread anon write fault (%d pages, median of %d rounds)%n", pages, measured);
        for (String spec : SPECS) {
            double m = median(results.get(spec));
            OUT.printf("   %-22s %8.0f ns/fault   ratio to rwsem %.2f%n", spec, m, m / base);
        }
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a[a.length / 2];
    }

    private static void bytesPerVma(Strategies strategies) {
        OUT.printf("%n2. bytes per VMA (JOL GraphLayout.totalSize of the Vma with everything it references)%n");
        for (String spec : SPECS) {
            Mm mm = newMm(strategies, spec);
            long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
            mm.write(a, 1);
            Vma vma = mm.tree().find(a);
            long total = GraphLayout.parseInstance(vma).totalSize();
            long anon = GraphLayout.parseInstance(vma.anon()).totalSize();
            long lock = vma.lockState() == null ? 0 : GraphLayout.parseInstance(vma.lockState()).totalSize();
            OUT.printf("   %-22s %4d bytes (lock state %3d, anon identity %3d, VMA object %3d)%n", spec, total,
                    lock, anon, total - lock - anon);
        }
    }

    private static void workload(Strategies strategies, String spec, double seconds) throws InterruptedException {
        Mm mm = newMm(strategies, spec);
        int pages = 4096;
        long region = mm.mmapAnon(0x1000_0000L, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
        mm.write(region, 1);
        long other = 0x4000_0000L;
        AtomicBoolean stop = new AtomicBoolean();
        Histogram faults = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
        AtomicLong mmaps = new AtomicLong();
        Thread faulter = new Thread(() -> {
            while (!stop.get()) {
                for (int p = 0; p < pages && !stop.get(); p++) {
                    long t0 = System.nanoTime();
                    mm.write(region + p * PAGE_SIZE, p);
                    faults.recordValue(System.nanoTime() - t0);
                }
                mm.madvise(region, pages * PAGE_SIZE, MADV_DONTNEED);
            }
        }, "faulter");
        Thread mapper = new Thread(() -> {
            while (!stop.get()) {
                long a = mm.mmapAnon(other, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                mm.write(a, 1);
                mm.munmap(a, 16 * PAGE_SIZE);
                mmaps.incrementAndGet();
            }
        }, "mapper");
        // Warm up for a third of the time, then measure.
        faulter.start();
        mapper.start();
        Thread.sleep((long) (seconds * 1000 / 3));
        faults.reset();
        mmaps.set(0);
        mm.counters().reset();
        mm.waits().reset();
        long t0 = System.nanoTime();
        Thread.sleep((long) (seconds * 1000));
        stop.set(true);
        faulter.join();
        mapper.join();
        double elapsed = (System.nanoTime() - t0) / 1e9;
        OUT.printf("%n3. %s: fault loop beside an mmap/write/munmap loop on a disjoint range, %.1f s%n", spec, elapsed);
        OUT.printf("   fault latency: n=%d  p50 %d ns  p99 %d ns  p99.9 %d ns  max %d ns%n", faults.getTotalCount(),
                faults.getValueAtPercentile(50), faults.getValueAtPercentile(99), faults.getValueAtPercentile(99.9),
                faults.getMaxValue());
        OUT.printf("   mmap loop: %.0f iterations/s; waits %d (false conflicts %d)%n", mmaps.get() / elapsed,
                mm.waits().count(), mm.waits().falseConflicts());
        Map<String, Long> c = mm.counters().snapshot(spec.startsWith("pervma") ? "pervma." : "rwsem.");
        OUT.printf("   counters: %s%n", c);
        mm.exit();
    }
}
