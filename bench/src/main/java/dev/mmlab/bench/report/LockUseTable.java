package dev.mmlab.bench.report;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The lock-use section of the text reports: per strategy and operation kind, how many operations held the mm-wide
 * lock for read, for write, or not at all, and how many fell back to it or retried. Operation kinds are sorted, so
 * a virtual-clock run prints the same text every time.
 */
public final class LockUseTable {
    /** The uses in column order, as the JSON's {@code lockUse} names them. */
    public static final List<String> USES = List.of("read", "write", "none", "fallback", "retry");

    private LockUseTable() {}

    /** One strategy's lock use: its label and {@code lockUse} (operation kind to use to count). */
    public record Row(String label, Map<String, Map<String, Long>> lockUse) {}

    /** The section, or an empty string when no row has any count. */
    public static String render(List<Row> rows) {
        int lw = "strategy".length();
        int ow = "op".length();
        boolean any = false;
        for (Row r : rows) {
            lw = Math.max(lw, r.label().length());
            for (String op : r.lockUse().keySet()) {
                ow = Math.max(ow, op.length());
                any = true;
            }
        }
        if (!any) {
            return "";
        }
        String format = "%-" + lw + "s  %-" + ow + "s %10s %10s %10s %10s %10s%n";
        StringBuilder sb = new StringBuilder("lock use: operations by their hold of the mm-wide lock (read, write, none), "
                + "and of them fallbacks to it and further tries\n");
        List<Object> header = new ArrayList<>(List.of("strategy", "op"));
        header.addAll(USES);
        sb.append(String.format(Locale.ROOT, format, header.toArray()));
        for (Row r : rows) {
            for (Map.Entry<String, Map<String, Long>> e : r.lockUse().entrySet()) {
                List<Object> cells = new ArrayList<>(List.of(r.label(), e.getKey()));
                for (String use : USES) {
                    cells.add(Long.toString(e.getValue().getOrDefault(use, 0L)));
                }
                sb.append(String.format(Locale.ROOT, format, cells.toArray()));
            }
        }
        return sb.toString();
    }
}
