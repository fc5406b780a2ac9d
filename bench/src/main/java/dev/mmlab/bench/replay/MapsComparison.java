package dev.mmlab.bench.replay;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compares {@code /proc/pid/maps} text field by field (range, permissions, offset, device, inode, path),
 * whitespace aside, within a window of addresses: how the kernel oracle is checked.
 */
public final class MapsComparison {
    private static final Pattern LINE = Pattern.compile(
            "\\s*([0-9a-f]+)-([0-9a-f]+)\\s+([r-][w-][x-][sp])\\s+([0-9a-f]+)\\s+([0-9a-f]+:[0-9a-f]+)\\s+(\\d+)\\s*(.*?)\\s*");
    private static final Pattern WINDOW = Pattern.compile("#\\s*window\\s+([0-9a-f]+)-([0-9a-f]+)(?:\\s+file\\s+(.*?))?\\s*");

    private MapsComparison() {}

    /** One parsed line; {@link #path()} is empty for anonymous memory. Offsets and devices are compared as numbers. */
    public record Line(long start, long end, String perms, long offset, String device, long inode, String path,
            String text) {
        /** Field-by-field equality, the text's whitespace aside. */
        public boolean sameFields(Line o) {
            return start == o.start && end == o.end && perms.equals(o.perms) && offset == o.offset
                    && device.equals(o.device) && inode == o.inode && path.equals(o.path);
        }
    }

    /**
     * An oracle's {@code .maps} file: its window (first line {@code # window START-END file PATH}) and lines.
     *
     * @param file the scratch file the traced program mapped, or null when the header does not name one
     */
    public record Expected(long windowStart, long windowEnd, String file, List<Line> lines) {
        public Expected {
            lines = List.copyOf(lines);
        }
    }

    /**
     * Parses a line of maps text.
     *
     * @throws IllegalArgumentException if the line is not {@code START-END PERMS OFFSET MAJ:MIN INODE [PATH]}
     */
    public static Line parseLine(String text) {
        Matcher m = LINE.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a /proc/pid/maps line: '" + text + "'");
        }
        String[] dev = m.group(5).split(":");
        String device = Integer.parseInt(dev[0], 16) + ":" + Integer.parseInt(dev[1], 16);
        return new Line(Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16), m.group(3),
                Long.parseUnsignedLong(m.group(4), 16), device, Long.parseLong(m.group(6)), m.group(7), text);
    }

    /**
     * Reads an oracle {@code .maps} file.
     *
     * @throws IOException if it cannot be read or its first line is not a window header
     */
    public static Expected readExpected(Path file) throws IOException {
        List<String> text = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (text.isEmpty()) {
            throw new IOException(file + ":1: empty; expected '# window START-END file PATH'");
        }
        Matcher m = WINDOW.matcher(text.get(0));
        if (!m.matches()) {
            throw new IOException(file + ":1: expected '# window START-END file PATH', found '" + text.get(0) + "'");
        }
        List<Line> lines = new ArrayList<>();
        for (int i = 1; i < text.size(); i++) {
            if (text.get(i).isBlank()) {
                continue;
            }
            try {
                lines.add(parseLine(text.get(i)));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ":" + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return new Expected(Long.parseUnsignedLong(m.group(1), 16), Long.parseUnsignedLong(m.group(2), 16),
                m.group(3), lines);
    }

    /** The lines of {@code mapsText} whose range overlaps {@code [start, end)}. */
    public static List<Line> window(String mapsText, long start, long end) {
        List<Line> out = new ArrayList<>();
        for (String s : mapsText.split("\n")) {
            if (s.isBlank()) {
                continue;
            }
            Line l = parseLine(s);
            if (l.start() < end && start < l.end()) {
                out.add(l);
            }
        }
        return out;
    }

    /**
     * The first difference between {@code expected} and {@code actual}, or null when they match: the first
     * differing line of each side, {@code (none)} where a side has ended.
     */
    public static String firstDifference(List<Line> expected, List<Line> actual) {
        int n = Math.max(expected.size(), actual.size());
        for (int i = 0; i < n; i++) {
            Line e = i < expected.size() ? expected.get(i) : null;
            Line a = i < actual.size() ? actual.get(i) : null;
            if (e == null || a == null || !e.sameFields(a)) {
                return "line " + (i + 1) + " of the window differs:\n  kernel: "
                        + (e == null ? "(none)" : e.text().strip()) + "\n  model:  "
                        + (a == null ? "(none)" : a.text().strip());
            }
        }
        return null;
    }

    /** Both sides in full, for a report. */
    public static String sideBySide(List<Line> expected, List<Line> actual) {
        StringBuilder sb = new StringBuilder();
        int n = Math.max(expected.size(), actual.size());
        for (int i = 0; i < n; i++) {
            Line e = i < expected.size() ? expected.get(i) : null;
            Line a = i < actual.size() ? actual.get(i) : null;
            boolean same = e != null && a != null && e.sameFields(a);
            sb.append(same ? "  " : "! ").append(String.format("%-90s | %s%n",
                    e == null ? "" : e.text().strip(), a == null ? "" : a.text().strip()));
        }
        return sb.toString();
    }
}
