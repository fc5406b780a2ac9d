package dev.mmlab.rangelock.measure;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.rangelock.RangeLockStrategy;
import dev.mmlab.rangelock.lock.ListRangeLock;
import dev.mmlab.rangelock.lock.RangeLock;
import dev.mmlab.rangelock.lock.TreeRangeLock;
import dev.mmlab.rwsem.RwsemStrategy;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * A throwaway measurement harness (not a test): rangelock against rwsem in one JVM. Prints
 * <ol>
 *   <li>single-thread anonymous write-fault cost per strategy and its ratio to rwsem;</li>
 *   <li>fault latency percentiles while another thread runs an mmap/munmap loop on a disjoint range;</li>
 *   <li>tree vs list range lock acquire+release cost.</li>
 * </ol>
 * Run: {@code mvn -o -q -pl impl-rangelock test-compile} then
 * {@code java -cp target/classes:target/test-classes:<deps> dev.mmlab.rangelock.measure.RangeLockMeasure}.
 * This class is the CLI-like exception to "no System.out": it is the harness's own output.
 */
public final class RangeLockMeasure {
    private static final PrintStream OUT = System.out;
    private static final String[] SPECS = {"rwsem", "rangelock:impl=tree", "rangelock:impl=list"};

    private RangeLockMeasure() {}

    public static void main(String[] args) throws Exception {
        OUT.println("cpus=" + Runtime.getRuntime().availableProcessors() + " java=" + System.getProperty("java.version"));
        faultCost();
        faultLatencyBesideMmapLoop(args.length > 0 ? Long.parseLong(args[0]) : 2000);
        rangeLockCost();
    }

    static Mm newMm(String spec) {
        LockingStrategy s = spec.startsWith("rwsem") ? new RwsemStrategy() : new RangeLockStrategy();
        Map<String, String> options = new LinkedHashMap<>();
        int colon = spec.indexOf(':');
        if (colon > 0) {
            for (String kv : spec.substring(colon + 1).split(",")) {
                String[] p = kv.split("=");
                options.put(p[0], p[1]);
            }
        }
        return Mm.create(s, StrategyConfig.of(s.name(), s.options(), options), MmConfig.defaults().withChecking(false));
    }

    // ------------------------------------------------------------------ 1. single-thread fault cost

    static void faultCost() {
        int pages = 8192;
        int rounds = 30;
        Map<String, List<Double>> perFault = new LinkedHashMap<>();
        for (String spec : SPECS) {
            perFault.put(spec, new ArrayList<>());
        }
        Map<String, Mm> mms = new LinkedHashMap<>();
        for (String spec : SPECS) {
            mms.put(spec, newMm(spec));
        }
        for (int round = 0; round < rounds; round++) {
            for (String spec : SPECS) {
                Mm mm = mms.get(spec);
                long a = mm.mmapAnon(0x100000000L, (long) pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                long t0 = System.nanoTime();
                for (int i = 0; i < pages; i++) {
                    if (mm.fault(a + (long) i * PAGE_SIZE, Access.WRITE) != FaultOutcome.MAPPED) {
                        throw new IllegalStateException("fault failed");
                    }
                }
                long t1 = System.nanoTime();
                mm.munmap(a, (long) pages * PAGE_SIZE);
                if (round >= 10) { // the first rounds warm up the JIT
                    perFault.get(spec).add((t1 - t0) / (double) pages);
                }
            }
        }
        double base = median(perFault.get("rwsem"));
        OUT.println();
        OUT.println("1. single-thread anonymous write fault (" + pages + " pages x " + (rounds - 10) + " rounds, median)");
        for (String spec : SPECS) {
            double m = median(perFault.get(spec));
            OUT.printf("   %-22s %8.0f ns/fault   ratio to rwsem %.2f%n", spec, m, m / base);
        }
    }

    // ------------------------------------------------------------------ 2. fault p99 beside an mmap/munmap loop

    static void faultLatencyBesideMmapLoop(long millis) throws InterruptedException {
        OUT.println();
        OUT.println("2. fault latency (one faulting thread) while another thread loops mmap+touch+munmap 64 KiB on a disjoint range, "
                + millis + " ms each");
        for (int rep = 0; rep < 2; rep++) {
            for (String spec : SPECS) {
                Mm mm = newMm(spec);
                long faultBase = 0x100000000L;
                long loopBase = 0x200000000L;
                int pages = 4096;
                Histogram faults = new Histogram(3_600_000_000_000L, 3);
                AtomicBoolean stop = new AtomicBoolean();
                AtomicLong loops = new AtomicLong();
                Thread looper = new Thread(() -> {
                    while (!stop.get()) {
                        long a = mm.mmapAnon(loopBase, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                        mm.write(a, 1);
                        mm.munmap(a, 16 * PAGE_SIZE);
                        loops.incrementAndGet();
                    }
                });
                // Warm-up without the looper.
                runFaults(mm, faultBase, pages, 300, null);
                looper.start();
                long t0 = System.nanoTime();
                long nFaults = runFaults(mm, faultBase, pages, millis, faults);
                stop.set(true);
                looper.join();
                double secs = (System.nanoTime() - t0) / 1e9;
                if (rep == 1) {
                    OUT.printf("   %-22s faults %7.0f/s  p50 %6.1f us  p99 %7.1f us  p99.9 %7.1f us  max %8.1f us | mmap loop %7.0f/s"
                            + "  waits %d (false %d)%n", spec, nFaults / secs, faults.getValueAtPercentile(50) / 1e3,
                            faults.getValueAtPercentile(99) / 1e3, faults.getValueAtPercentile(99.9) / 1e3,
                            faults.getMaxValue() / 1e3, loops.get() / secs, mm.waits().count(), mm.waits().falseConflicts());
                }
            }
        }
    }

    /** Faults every page of a region, remapping it when done (untimed); returns the faults timed. */
    private static long runFaults(Mm mm, long base, int pages, long millis, Histogram histogram) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        long n = 0;
        while (System.nanoTime() < deadline) {
            long a = mm.mmapAnon(base, (long) pages * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
            for (int i = 0; i < pages; i++) {
                long t0 = System.nanoTime();
                mm.fault(a + (long) i * PAGE_SIZE, Access.WRITE);
                long t1 = System.nanoTime();
                if (histogram != null) {
                    histogram.recordValue(t1 - t0);
                }
                n++;
            }
            mm.munmap(a, (long) pages * PAGE_SIZE);
        }
        return n;
    }

    // ------------------------------------------------------------------ 3. range lock cost

    static void rangeLockCost() throws InterruptedException {
        OUT.println();
        OUT.println("3. range lock acquire+release (median of 9 runs of 1M ops)");
        Map<String, Supplier<RangeLock>> impls = new LinkedHashMap<>();
        impls.put("tree", TreeRangeLock::new);
        impls.put("list", ListRangeLock::new);
        for (int held : new int[] {0, 64}) {
            for (boolean write : new boolean[] {false, true}) {
                for (Map.Entry<String, Supplier<RangeLock>> e : impls.entrySet()) {
                    RangeLock lock = e.getValue().get();
                    for (int i = 0; i < held; i++) {
                        lock.lockRead(1_000_000 + i * 100L, 1_000_000 + i * 100L + 50);
                    }
                    double[] runs = new double[9];
                    for (int r = 0; r < runs.length + 3; r++) {
                        long t0 = System.nanoTime();
                        for (int i = 0; i < 1_000_000; i++) {
                            long s = (i & 63) * 100L + 1_000_000 + 60;
                            RangeLock.Handle h = write ? lock.lockWrite(s, s + 30) : lock.lockRead(s, s + 30);
                            h.unlock();
                        }
                        if (r >= 3) {
                            runs[r - 3] = (System.nanoTime() - t0) / 1e6;
                        }
                    }
                    Arrays.sort(runs);
                    OUT.printf("   %-4s %-5s with %2d other ranges held: %6.1f ns/op (1 thread)%n", e.getKey(),
                            write ? "write" : "read", held, runs[runs.length / 2]);
                }
            }
        }
        for (Map.Entry<String, Supplier<RangeLock>> e : impls.entrySet()) {
            RangeLock lock = e.getValue().get();
            double best = Double.MAX_VALUE;
            for (int r = 0; r < 5; r++) {
                Thread[] ts = new Thread[2];
                long t0 = System.nanoTime();
                for (int t = 0; t < 2; t++) {
                    long base = t * 1000L;
                    ts[t] = new Thread(() -> {
                        try {
                            for (int i = 0; i < 1_000_000; i++) {
                                lock.lockWrite(base, base + 100).unlock();
                            }
                        } catch (InterruptedException ex) {
                            Thread.currentThread().interrupt();
                        }
                    });
                    ts[t].start();
                }
                for (Thread t : ts) {
                    t.join();
                }
                best = Math.min(best, (System.nanoTime() - t0) / 2e6);
            }
            OUT.printf("   %-4s write, 2 threads on disjoint ranges: %6.1f ns/op per thread (best of 5)%n", e.getKey(), best);
        }
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a[a.length / 2];
    }
}
