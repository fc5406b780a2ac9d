package dev.mmlab.bench.report;

import java.util.Locale;

/** Number formats shared by the table, CSV and HTML reports. */
public final class Format {
    private Format() {}

    /** A duration in the unit that reads best: {@code 850ns}, {@code 12.3us}, {@code 2.10ms}, {@code 1.20s}. */
    public static String nanos(long ns) {
        if (ns < 1_000) {
            return ns + "ns";
        }
        if (ns < 1_000_000) {
            return String.format(Locale.ROOT, "%.1fus", ns / 1e3);
        }
        if (ns < 1_000_000_000) {
            return String.format(Locale.ROOT, "%.2fms", ns / 1e6);
        }
        return String.format(Locale.ROOT, "%.2fs", ns / 1e9);
    }

    /** A rate: {@code 12}, {@code 1,234}, {@code 1.23M}. */
    public static String rate(double perSecond) {
        if (perSecond >= 10_000_000) {
            return String.format(Locale.ROOT, "%.1fM", perSecond / 1e6);
        }
        if (perSecond >= 100) {
            return String.format(Locale.ROOT, "%,.0f", perSecond);
        }
        return String.format(Locale.ROOT, "%.1f", perSecond);
    }

    /** A fraction as a percentage, or {@code -} when there is nothing to compare with. */
    public static String fraction(double f) {
        return Double.isNaN(f) ? "-" : String.format(Locale.ROOT, "%.0f%%", f * 100);
    }
}
