package dev.mmlab.rangelock.lock;

/** Range arithmetic shared by the range-lock implementations. */
final class Ranges {

    private Ranges() {
    }

    /** Throws unless {@code [start, end)} is a non-empty range. */
    static void checkRange(long start, long end) {
        if (start >= end) {
            throw new IllegalArgumentException(
                    "empty or inverted range [" + start + ", " + end + "): a range lock needs start < end");
        }
    }

    /** Half-open overlap; containment counts, touching ends do not. */
    static boolean overlaps(long aStart, long aEnd, long bStart, long bEnd) {
        return aStart < bEnd && bStart < aEnd;
    }

    /** Two requests conflict iff they overlap and at least one writes. */
    static boolean conflicts(long aStart, long aEnd, boolean aWrite, long bStart, long bEnd, boolean bWrite) {
        return (aWrite || bWrite) && overlaps(aStart, aEnd, bStart, bEnd);
    }

    /** {@code W[0x0, 0xa)} style, for handle toString and error messages. */
    static String describe(long start, long end, boolean write) {
        return (write ? "W[0x" : "R[0x") + Long.toHexString(start) + ", 0x" + Long.toHexString(end) + ")";
    }
}
