package dev.mmlab.speculative;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.rwsem.RwsemStrategy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.HdrHistogram.Histogram;

/**
 * A throwaway harness (not a test): the three measurements, speculative in both validation modes
 * against the rwsem baseline in one JVM. Run it with the test class path:
 * {@code java -cp ... dev.mmlab.speculative.SpeculativeMeasure [seconds-per-phase]}.
 * <ol>
 *   <li>single-thread anonymous write-fault cost (ns per fault, rounds interleaved across strategies);</li>
 *   <li>abort rate of a faulting thread beside a thread doing mmap/munmap on a disjoint range;</li>
 *   <li>the fault latency p50/p99/p99.9 (HdrHistogram) in that same workload.</li>
 * </ol>
 * Checking mode is off, as in a benchmark; the checker still runs after each phase.
 */
public final class SpeculativeMeasure {
    private static final int REGION_PAGES = 512;

    private SpeculativeMeasure() {}

    private static Mm newMm(String spec) {
        LockingStrategy s = spec.equals("rwsem") ? new RwsemStrategy() : new SpeculativeStrategy();
        Map<String, String> options = spec.equals("rwsem") ? Map.of() : Map.of("validation", spec.substring(spec.indexOf('=') + 1));
        return Mm.create(s, StrategyConfig.of(s.name(), s.options(), options), MmConfig.defaults().withChecking(false));
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 2.0;
        List<String> specs = List.of("rwsem", "speculative:validation=vma", "speculative:validation=mm");
        Map<String, Double> nsPerFault = singleThreadFaultCost(specs, seconds);
        System.out.println("== single-thread anon write fault (ns/fault, best of rounds; ratio vs rwsem)");
        for (String spec : specs) {
            System.out.printf("  %-28s %8.0f ns  x%.2f%n", spec, nsPerFault.get(spec), nsPerFault.get(spec) / nsPerFault.get("rwsem"));
        }
        for (String spec : specs) { // warm every strategy's code up before any of them is measured
            besideMmapLoop(spec, 0.5, false, false);
        }
        System.out.println("== faulting thread beside an mmap/munmap loop on a disjoint range");
        for (String spec : specs) {
            besideMmapLoop(spec, seconds, false, true);
        }
        System.out.println("== the same, the loop mapping right after the region (merges into its VMA, munmap splits it off)");
        for (String spec : specs) {
            besideMmapLoop(spec, seconds, true, true);
        }
    }

    /** Fault in a fresh region page by page; rounds alternate between strategies; keep each one's best. */
    private static Map<String, Double> singleThreadFaultCost(List<String> specs, double seconds) {
        Map<String, Mm> mms = new LinkedHashMap<>();
        Map<String, Double> best = new LinkedHashMap<>();
        for (String spec : specs) {
            mms.put(spec, newMm(spec));
            best.put(spec, Double.MAX_VALUE);
        }
        long end = System.nanoTime() + (long) (seconds * 3e9);
        int rounds = 0;
        while (System.nanoTime() < end || rounds < 20) {
            for (String spec : specs) {
                Mm mm = mms.get(spec);
                long a = mm.mmapAnon(0, REGION_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
                mm.fault(a, Access.WRITE); // the anon identity: later faults need no anon_vma_prepare
                long t0 = System.nanoTime();
                for (int p = 1; p < REGION_PAGES; p++) {
                    if (mm.fault(a + (long) p * PAGE_SIZE, Access.WRITE) != FaultOutcome.MAPPED) {
                        throw new AssertionError(spec + ": fault failed");
                    }
                }
                double ns = (System.nanoTime() - t0) / (double) (REGION_PAGES - 1);
                mm.munmap(a, REGION_PAGES * PAGE_SIZE);
                if (rounds >= 10) { // the first rounds warm up the JIT
                    best.put(spec, Math.min(best.get(spec), ns));
                }
            }
            rounds++;
        }
        for (Map.Entry<String, Mm> e : mms.entrySet()) {
            requireClean(e.getValue());
        }
        return best;
    }

    private static void besideMmapLoop(String spec, double seconds, boolean adjacent, boolean print)
            throws InterruptedException {
        Mm mm = newMm(spec);
        long region = mm.mmapAnon(0, REGION_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        mm.fault(region, Access.WRITE);
        // The mmap/munmap loop's range: nowhere near the region, or adjacent to it.
        long far = adjacent ? region + REGION_PAGES * PAGE_SIZE : 0x100000000L;
        AtomicBoolean stop = new AtomicBoolean();
        long[] mmaps = new long[1];
        Thread mapper = new Thread(() -> {
            while (!stop.get()) {
                long b = mm.mmapAnon(far, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                mm.munmap(b, 16 * PAGE_SIZE);
                mmaps[0]++;
            }
        }, "mmap-loop");
        Histogram latency = new Histogram(3_600_000_000_000L, 3);
        long faults = 0;
        long warmupEnd = System.nanoTime() + 500_000_000L;
        mapper.start();
        long end = System.nanoTime() + (long) (seconds * 1e9) + 500_000_000L;
        boolean measuring = false;
        while (System.nanoTime() < end) {
            if (!measuring && System.nanoTime() > warmupEnd) {
                measuring = true;
                mm.counters().reset();
            }
            for (int p = 1; p < REGION_PAGES; p++) {
                long t0 = System.nanoTime();
                mm.fault(region + (long) p * PAGE_SIZE, Access.WRITE);
                long dt = System.nanoTime() - t0;
                if (measuring) {
                    latency.recordValue(dt);
                    faults++;
                }
            }
            mm.madvise(region, REGION_PAGES * PAGE_SIZE, MADV_DONTNEED); // fault them all again
        }
        stop.set(true);
        mapper.join();
        requireClean(mm);
        if (!print) {
            return;
        }
        Map<String, Long> c = mm.counters().snapshot("speculative");
        long aborts = c.entrySet().stream().filter(e -> e.getKey().startsWith("speculative.abort.")).mapToLong(Map.Entry::getValue).sum();
        System.out.printf("  %-28s faults %8d (%6.0f/s)  mmap+munmap %7d  p50 %6.1f us  p99 %7.1f us  p99.9 %7.1f us  max %8.1f us%n",
                spec, faults, faults / seconds, mmaps[0], latency.getValueAtPercentile(50) / 1e3,
                latency.getValueAtPercentile(99) / 1e3, latency.getValueAtPercentile(99.9) / 1e3, latency.getMaxValue() / 1e3);
        if (!spec.equals("rwsem")) {
            System.out.printf("  %-28s abort rate %.3f%% of faults (%d aborts, %d fallbacks): %s%n", "", 100.0 * aborts / faults,
                    aborts, c.getOrDefault("speculative.fallback", 0L), c);
        }
    }

    private static void requireClean(Mm mm) {
        mm.exit();
        var violations = InvariantChecker.check(mm);
        if (!violations.isEmpty()) {
            throw new AssertionError(mm + ": " + violations);
        }
    }
}
