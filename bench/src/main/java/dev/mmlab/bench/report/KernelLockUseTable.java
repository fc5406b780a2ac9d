package dev.mmlab.bench.report;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The "kernel vs model" section of the text report: per strategy and operation kind, the kernel's recorded mmap_lock
 * acquisitions for read and write next to the strategy's operations that held the mm-wide lock for read and write
 * ({@code lockUse}), and the difference (model minus kernel). Kinds are sorted, as in {@link LockUseTable}.
 */
public final class KernelLockUseTable {
    private KernelLockUseTable() {}

    /**
     * The section, or an empty string when the kernel's counts are empty.
     *
     * @param kernel operation kind to {@code read} and {@code write} acquisitions, as {@code kernelLockUse}
     * @param rows each strategy's {@code lockUse}
     */
    public static String render(Map<String, Map<String, Long>> kernel, List<LockUseTable.Row> rows) {
        if (kernel.isEmpty()) {
            return "";
        }
        int lw = "strategy".length();
        int ow = "op".length();
        for (LockUseTable.Row r : rows) {
            lw = Math.max(lw, r.label().length());
        }
        TreeSet<String> ops = new TreeSet<>(kernel.keySet());
        rows.forEach(r -> ops.addAll(r.lockUse().keySet()));
        for (String op : ops) {
            ow = Math.max(ow, op.length());
        }
        String format = "%-" + lw + "s  %-" + ow + "s %12s %12s %10s %12s %12s %10s%n";
        StringBuilder sb = new StringBuilder("kernel vs model: the kernel's mmap_lock acquisitions in the trace, and the "
                + "strategy's operations that held the mm-wide lock\n");
        sb.append(String.format(Locale.ROOT, format, "strategy", "op", "kernel read", "model read", "diff",
                "kernel write", "model write", "diff"));
        for (LockUseTable.Row r : rows) {
            for (String op : ops) {
                long kr = count(kernel, op, "read");
                long kw = count(kernel, op, "write");
                long mr = count(r.lockUse(), op, "read");
                long mw = count(r.lockUse(), op, "write");
                sb.append(String.format(Locale.ROOT, format, r.label(), op, kr, mr, signed(mr - kr), kw, mw,
                        signed(mw - kw)));
            }
        }
        return sb.toString();
    }

    private static long count(Map<String, Map<String, Long>> use, String op, String hold) {
        return use.getOrDefault(op, Map.of()).getOrDefault(hold, 0L);
    }

    private static String signed(long n) {
        return n > 0 ? "+" + n : Long.toString(n);
    }
}
