package dev.mmlab.bench.calibrate;

import static dev.mmlab.api.Linux.MAP_FIXED;
import static dev.mmlab.api.Linux.PROT_READ;
import static dev.mmlab.api.Linux.PROT_WRITE;

import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.api.sync.Cost;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures this machine's kernel at the steps the virtual clock prices, with {@code calibrate.c} (in this
 * package's resources; it says what each measurement does). The program prints raw per-unit timings; this
 * class turns them into steps, taking out of each what belongs to another step:
 *
 * <ul>
 *   <li>a fault in a fresh region also allocates a PTE table every 512 pages, and a munmap frees one; the
 *       one-touch-per-2-MiB measurements give those, and both pairs are solved together;</li>
 *   <li>mmap + munmap of untouched memory is two syscalls plus VMA work, which is shared between
 *       {@link Cost#VMA_CHANGE} and {@link Cost#TREE_PUBLISH} by how many of each the model does for one
 *       mmap + munmap (counted), in the default profile's proportion of the two: one number cannot be split
 *       by measurement alone;</li>
 * </ul>
 */
public final class KernelProbe {
    static final String PROGRAM = "calibrate.c";
    private static final long TIMEOUT_SECONDS = 300;
    /** PTEs in one PTE table: one table allocation per this many faults in a fresh region. */
    private static final double PTES_PER_TABLE = 512;

    private final boolean quick;

    public KernelProbe(boolean quick) {
        this.quick = quick;
    }

    /** Compiles and runs the program, and derives the steps from what it measured. */
    public Calibration measure() {
        List<String> lines = new CProgram(PROGRAM).run(quick ? List.of("--quick") : List.of(), TIMEOUT_SECONDS);
        Map<String, Double> raw = new HashMap<>();
        List<String> notes = new ArrayList<>();
        for (String line : lines) {
            if (line.startsWith("#")) {
                notes.add(line.substring(1).strip());
                continue;
            }
            String[] f = line.strip().split("\\s+");
            if (f.length == 2) {
                try {
                    raw.put(f[0], Double.parseDouble(f[1]));
                } catch (NumberFormatException e) {
                    notes.add("unreadable line from " + PROGRAM + ": " + line);
                }
            }
        }
        return derive(raw, notes, mmapSteps());
    }

    /** How many of each step the model does for one mmap + munmap of 128 MiB untouched. */
    static StepCounter.Counts mmapSteps() {
        Mm mm = ProbeAddressSpace.create();
        long bytes = 128L << 20;
        long at = 0x1000_0000_0000L;
        return StepCounter.count(() -> mm.munmap(mm.mmapAnon(at, bytes, PROT_READ | PROT_WRITE, MAP_FIXED), bytes));
    }

    /**
     * The steps from the program's raw measurements ({@code NAME -> ns per unit}). A measurement missing from
     * {@code raw} leaves the steps that need it unmeasured.
     */
    static Calibration derive(Map<String, Double> raw, List<String> notes, StepCounter.Counts mmapCounts) {
        CostProfile defaults = CostProfile.named(CostProfile.DEFAULT);
        String k = "median of " + raw.getOrDefault("reps", Double.NaN).intValue();
        Map<Cost, StepEstimate> steps = new EnumMap<>(Cost.class);
        Raw r = new Raw(raw);

        r.then("syscall", s -> put(steps, Cost.SYSCALL, s, "syscall(SYS_getppid) in a loop, ns per call, " + k));

        // fault = anon_write - table/512 and table = sparse - fault, solved together (likewise zap and free).
        if (r.has("fault_anon_write", "sparse_touch")) {
            double w = raw.get("fault_anon_write");
            double s = raw.get("sparse_touch");
            double fault = (w - s / PTES_PER_TABLE) / (1 - 1 / PTES_PER_TABLE);
            double table = s - fault;
            put(steps, Cost.FAULT_ANON, fault, "page_fault1 analog: write one byte per page of a fresh anonymous "
                    + "region (THP off), ns per fault less 1/512 of a PTE table allocation, " + k);
            put(steps, Cost.PTE_TABLE_ALLOC, table, "one write per 2 MiB of a large fresh region (a PTE table and a "
                    + "page per touch), ns per touch less FAULT_ANON, " + k);
            r.then("fault_anon_read", rd -> put(steps, Cost.FAULT_ZERO, rd - table / PTES_PER_TABLE,
                    "read one byte per page of a fresh anonymous region (the zero page), ns per fault less 1/512 of a "
                            + "PTE table allocation, " + k));
            r.then("file_fault_shared", f -> put(steps, Cost.FAULT_FILE, f - table / PTES_PER_TABLE,
                    "page_fault3 analog: write one byte per page of a MAP_SHARED memfd already in the page cache (one "
                            + "page per fault; a read fault would map 16 by fault-around, which the model does not do), "
                            + "ns per fault less 1/512 of a PTE table allocation, " + k));
            r.then("file_fault_cow", f -> put(steps, Cost.FAULT_COW, f - table / PTES_PER_TABLE,
                    "page_fault2 analog: write one byte per page of a MAP_PRIVATE memfd in the page cache (do_cow_fault "
                            + "copies the page cache page), ns per fault less 1/512 of a PTE table allocation, " + k));
        }
        if (r.has("munmap_populated", "munmap_untouched", "sparse_munmap")) {
            double z = raw.get("munmap_populated") - raw.get("munmap_untouched");
            double m = raw.get("sparse_munmap");
            double zap = (z - m / PTES_PER_TABLE) / (1 - 1 / PTES_PER_TABLE);
            put(steps, Cost.ZAP_PAGE, zap, "munmap of a populated region less munmap of an untouched one, ns per page "
                    + "less 1/512 of a PTE table free, " + k);
            put(steps, Cost.PTE_TABLE_FREE, m - zap, "munmap of the one-write-per-2-MiB region, ns per PTE table less "
                    + "ZAP_PAGE, " + k);
        }
        if (r.has("mmap_munmap", "syscall")) {
            double lookup = mmapCounts.of(Cost.VMA_LOOKUP_LEVEL) * defaults.nanos(Cost.VMA_LOOKUP_LEVEL);
            double work = raw.get("mmap_munmap") - mmapCounts.of(Cost.SYSCALL) * raw.get("syscall") - lookup;
            long changes = mmapCounts.of(Cost.VMA_CHANGE);
            long publishes = mmapCounts.of(Cost.TREE_PUBLISH);
            double vc = defaults.nanos(Cost.VMA_CHANGE);
            double tp = defaults.nanos(Cost.TREE_PUBLISH);
            double scale = work / (changes * vc + publishes * tp);
            String how = "mmap1 analog: mmap + munmap of 128 MiB untouched, ns per pair, less " + mmapCounts.of(Cost.SYSCALL)
                    + " syscalls and " + mmapCounts.of(Cost.VMA_LOOKUP_LEVEL) + " lookup levels at linux-x86's price, "
                    + "shared among the model's " + changes + " VMA changes and " + publishes + " tree publishes per pair "
                    + "in linux-x86's proportion " + (long) vc + ":" + (long) tp + ", " + k;
            if (changes + publishes > 0) {
                put(steps, Cost.VMA_CHANGE, scale * vc, how);
                put(steps, Cost.TREE_PUBLISH, scale * tp, how);
            }
        }
        r.then("proc_line", p -> put(steps, Cost.PROC_LINE, p, "full read of /proc/self/maps with about 2000-5000 more "
                + "VMAs (alternately read-only and read-write, so none merges), ns per extra line, " + k));
        r.then("fork_vma", f -> put(steps, Cost.FORK_VMA, f, "fork() timed in the parent with many more one-page "
                + "VMAs, ns per extra VMA copied, " + k));
        r.then("fork_page", f -> put(steps, Cost.FORK_PAGE, f, "fork() timed in the parent with many more populated "
                + "pages, ns per extra page (PTE copied, write-protected, page shared), " + k));
        boolean pinned = raw.getOrDefault("cpus", 1.0) >= 2;
        String twoCpus = pinned ? "two threads pinned to two CPUs" : "two threads on the only CPU (no transfer measured)";
        r.then("line_round_trip", t -> {
            String how = twoCpus + " ping-pong one counter with atomic increments, half a round trip (median of "
                    + "batches of 1000 round trips), " + k;
            put(steps, Cost.LINE_TRANSFER, t / 2, how);
            put(steps, Cost.SPIN_HANDOFF, t / 2, "the kernel's spinning waiter takes the lock's line: " + how);
        });
        r.then("futex_round_trip", t -> put(steps, Cost.WAKEUP, t / 2, twoCpus + " hand a futex word back and forth "
                + "(FUTEX_WAIT / FUTEX_WAKE), half a round trip (median of batches of 20 round trips), " + k));
        r.then("atomic_local", a -> put(steps, Cost.ATOMIC_LOCAL, a, "atomic increments of a line this CPU holds, ns "
                + "each, " + k));
        r.then("read_local", l -> put(steps, Cost.READ_LOCAL, l, "a chain of dependent loads that hit L1 (latency), ns "
                + "each, " + k));
        r.then("spin", s -> put(steps, Cost.SPIN, s, "a pause instruction in a loop, ns per turn, " + k));
        if (!pinned) {
            notes = new ArrayList<>(notes);
            notes.add("this machine offers one CPU: LINE_TRANSFER and WAKEUP measure thread switches, not transfers");
        }
        return new Calibration("kernel", steps, notes);
    }

    private static void put(Map<Cost, StepEstimate> steps, Cost step, double nanos, String how) {
        steps.put(step, new StepEstimate(step, nanos, how));
    }

    /** The raw measurements, and what to do with the ones present. */
    private record Raw(Map<String, Double> values) {
        boolean has(String... names) {
            for (String n : names) {
                Double v = values.get(n);
                if (v == null || v.isNaN()) {
                    return false;
                }
            }
            return true;
        }

        void then(String name, java.util.function.DoubleConsumer use) {
            if (has(name)) {
                use.accept(values.get(name));
            }
        }
    }
}
