package dev.mmlab.api.stats;

import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.OpKind;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * How each operation of one address space was locked, per {@link OpKind}: the count the kernel's
 * {@code mmap_lock} tracepoints give, made by the engine from what it sees (a syscall guard's
 * {@link dev.mmlab.api.MmLockGuard#coarseHold}, a fault attempt's {@link dev.mmlab.api.FaultAttempt#holds}),
 * so a strategy gets it without code. Every finished operation counts once in exactly one of
 * {@link Use#READ}, {@link Use#WRITE} or {@link Use#NONE}, by the strongest hold of the whole address space it
 * had; {@link Use#FALLBACK} and {@link Use#RETRY} count on top of that.
 *
 * <ul>
 *   <li><b>read / write</b>: it held the mm-wide lock ({@code mmap_read_lock} / {@code mmap_write_lock}, or a
 *       range lock over the whole address space).</li>
 *   <li><b>none</b>: it never held the mm-wide lock: a fault under a VMA read lock, a speculative fault that
 *       validated, a range lock narrower than the address space, a madvise under a VMA lock.</li>
 *   <li><b>fallback</b>: it finished under the mm-wide lock after a try without it (a per-VMA fault that fell
 *       back to the mmap lock, a range that had to go coarse, a /proc walk that met a write-locked VMA).</li>
 *   <li><b>retry</b>: each further try that was not that fallback: a fault retried after waiting for I/O, a
 *       fault retried under the write lock, a syscall that relocked wider or for writing.</li>
 * </ul>
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> One {@link LongAdder} per operation kind and use, allocated up front, so
 *       counting is one add on a striped cell: cheap on the fault path, no map lookup.</li>
 *   <li><b>Lock order.</b> none: takes no lock; counted under any lock.</li>
 *   <li><b>What a reader may see mid-update.</b> As {@link Counters}: exact only at a quiescent point.</li>
 * </ul>
 */
public final class LockUse {
    /** One way an operation used the mm-wide lock; {@link #label()} is the report's key. */
    public enum Use {
        READ, WRITE, NONE, FALLBACK, RETRY;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The use of an operation whose strongest hold of the whole address space was {@code hold}. */
        public static Use of(CoarseHold hold) {
            return hold == CoarseHold.WRITE ? WRITE : hold == CoarseHold.READ ? READ : NONE;
        }
    }

    private static final Use[] USES = Use.values();
    private static final OpKind[] OPS = OpKind.values();

    private final LongAdder[][] counts = new LongAdder[OPS.length][USES.length];

    public LockUse() {
        for (LongAdder[] row : counts) {
            for (int i = 0; i < row.length; i++) {
                row[i] = new LongAdder();
            }
        }
    }

    /**
     * One finished operation of kind {@code op}: its strongest hold, whether it fell back to the mm-wide lock,
     * and how many further tries it made. Any thread; never blocks.
     */
    public void record(OpKind op, CoarseHold strongest, boolean fallback, int retries) {
        LongAdder[] row = counts[op.ordinal()];
        row[Use.of(strongest).ordinal()].increment();
        if (fallback) {
            row[Use.FALLBACK.ordinal()].increment();
        }
        if (retries > 0) {
            row[Use.RETRY.ordinal()].add(retries);
        }
    }

    /** The count of {@code use} for {@code op}. */
    public long get(OpKind op, Use use) {
        return counts[op.ordinal()][use.ordinal()].sum();
    }

    /**
     * The counts of every operation kind that ran, by label ({@code fault}, {@code mmap}, ...), sorted; each
     * with every use in the order read, write, none, fallback, retry (zeros included), so the same run gives the
     * same text.
     */
    public Map<String, Map<String, Long>> snapshot() {
        Map<String, Map<String, Long>> out = new TreeMap<>();
        for (OpKind op : OPS) {
            Map<String, Long> row = new LinkedHashMap<>();
            long total = 0;
            for (Use use : USES) {
                long n = get(op, use);
                row.put(use.label(), n);
                total += n;
            }
            if (total > 0) {
                out.put(op.label(), row);
            }
        }
        return out;
    }

    /** The sum of two {@link #snapshot}s (several address spaces of one run: a replay's forked children). */
    public static Map<String, Map<String, Long>> merge(Map<String, Map<String, Long>> a, Map<String, Map<String, Long>> b) {
        Map<String, Map<String, Long>> out = new TreeMap<>();
        for (Map<String, Map<String, Long>> m : List.of(a, b)) {
            m.forEach((op, row) -> {
                Map<String, Long> into = out.computeIfAbsent(op, k -> new LinkedHashMap<>());
                row.forEach((use, n) -> into.merge(use, n, Long::sum));
            });
        }
        return out;
    }

    public void reset() {
        for (LongAdder[] row : counts) {
            for (LongAdder a : row) {
                a.reset();
            }
        }
    }
}
