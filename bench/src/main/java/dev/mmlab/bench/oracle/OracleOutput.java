package dev.mmlab.bench.oracle;

import dev.mmlab.bench.replay.MapsComparison;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What running a script answered, in the same form for the kernel and the model: one result per op, and the
 * window's VMAs at the end with the smaps fields the model keeps. The text form is the kernel driver's output:
 *
 * <pre>
 * # kernel 6.18.44                       settings that change the answers (the kernel side only)
 * ok 10                                  one per op: ok VALUE | err ERRNO | mapped | SIGSEGV | SIGBUS
 * map 10 12 rw-p 00000000 00:00 0        each VMA overlapping the window, START and END as window pages
 * smaps 10 12 8 4 4 4 0                  START END Size Rss Anonymous Dirty (kB) Locked (VmFlags lo)
 * ok fork                                a fork, then the child's output, each line prefixed "child: "
 * child: mapped
 * child: map 10 12 rw-p 00000000 00:00 0
 * </pre>
 *
 * For mmap and mremap the value is the window page of the address, {@code outside} when it is not in the window.
 * A child's output is an {@code OracleOutput} of its own (its ops' results, its window when it exited), one per
 * fork in script order; a nested fork's child is a child of the child.
 *
 * @param settings the machine's settings the kernel driver read (empty for the model)
 * @param results per op, in script order
 * @param maps the window's maps lines, ranges in window pages (reusing {@link MapsComparison}'s line)
 * @param smaps per VMA, in the same order
 * @param children per fork that ran (its result {@code ok fork}), what its child answered
 */
public record OracleOutput(Map<String, String> settings, List<String> results, List<MapsComparison.Line> maps,
        List<Smaps> smaps, List<OracleOutput> children) {
    static final String CHILD_PREFIX = "child: ";
    static final String FORKED = "ok fork";

    public OracleOutput {
        settings = Collections.unmodifiableMap(new LinkedHashMap<>(settings));
        results = List.copyOf(results);
        maps = List.copyOf(maps);
        smaps = List.copyOf(smaps);
        children = List.copyOf(children);
    }

    /** An output without forks. */
    public OracleOutput(Map<String, String> settings, List<String> results, List<MapsComparison.Line> maps,
            List<Smaps> smaps) {
        this(settings, results, maps, smaps, List.of());
    }

    /** One VMA's smaps fields: sizes in kB; {@code dirty} is Private_Dirty plus Shared_Dirty. */
    public record Smaps(long start, long end, long sizeKb, long rssKb, long anonKb, long dirtyKb, boolean locked) {
        String text() {
            return "smaps " + start + " " + end + " " + sizeKb + " " + rssKb + " " + anonKb + " " + dirtyKb + " "
                    + (locked ? 1 : 0);
        }
    }

    /**
     * A maps line with its range in window pages: the text is {@code map START END PERMS OFFSET MAJ:MIN INODE
     * [PATH]}, the device in hex as the kernel prints it.
     */
    public static MapsComparison.Line mapLine(long start, long end, String perms, long offset, String device,
            long inode, String path) {
        String[] d = device.split(":");
        String text = String.format("map %d %d %s %08x %02x:%02x %d%s", start, end, perms, offset,
                Integer.parseInt(d[0]), Integer.parseInt(d[1]), inode, path.isEmpty() ? "" : " " + path);
        return new MapsComparison.Line(start, end, perms, offset, device, inode, path, text);
    }

    /**
     * Parses the driver's output.
     *
     * @throws IllegalArgumentException for a line that is none of the above (a driver bug)
     */
    public static OracleOutput parse(String text) {
        Map<String, String> settings = new LinkedHashMap<>();
        List<String> results = new ArrayList<>();
        List<MapsComparison.Line> maps = new ArrayList<>();
        List<Smaps> smaps = new ArrayList<>();
        List<OracleOutput> children = new ArrayList<>();
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith(CHILD_PREFIX)) {
                throw new IllegalArgumentException("a child's line without its fork: '" + line + "'");
            }
            if (line.strip().equals(FORKED)) {
                StringBuilder child = new StringBuilder();
                while (i + 1 < lines.length && lines[i + 1].startsWith(CHILD_PREFIX)) {
                    child.append(lines[++i].substring(CHILD_PREFIX.length())).append('\n');
                }
                children.add(parse(child.toString()));
            }
            String[] w = line.strip().split("\\s+", 8);
            switch (w[0]) {
                case "#":
                    settings.put(w[1], line.strip().substring(2 + w[1].length()).strip());
                    break;
                case "ok":
                case "err":
                    results.add(w[0] + " " + w[1]);
                    break;
                case "mapped":
                case "SIGSEGV":
                case "SIGBUS":
                    results.add(w[0]);
                    break;
                case "map": {
                    String[] dev = w[5].split(":");
                    maps.add(mapLine(Long.parseLong(w[1]), Long.parseLong(w[2]), w[3], Long.parseUnsignedLong(w[4], 16),
                            Integer.parseInt(dev[0], 16) + ":" + Integer.parseInt(dev[1], 16), Long.parseLong(w[6]),
                            w.length > 7 ? w[7].strip() : ""));
                    break;
                }
                case "smaps":
                    smaps.add(new Smaps(Long.parseLong(w[1]), Long.parseLong(w[2]), Long.parseLong(w[3]),
                            Long.parseLong(w[4]), Long.parseLong(w[5]), Long.parseLong(w[6]), w[7].equals("1")));
                    break;
                default:
                    throw new IllegalArgumentException("not a line of the driver's output: '" + line + "'");
            }
        }
        return new OracleOutput(settings, results, maps, smaps, children);
    }

    /** The settings as one line: {@code kernel=6.18.44 thp=always [madvise] never ...}. */
    public String settingsLine() {
        StringBuilder sb = new StringBuilder();
        settings.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(v));
        return sb.toString();
    }

    /** The text form (settings, results with each fork's child, maps and smaps lines), as the driver prints it. */
    public String text() {
        StringBuilder sb = new StringBuilder();
        settings.forEach((k, v) -> sb.append("# ").append(k).append(' ').append(v).append('\n'));
        int child = 0;
        for (String r : results) {
            sb.append(r).append('\n');
            if (r.equals(FORKED) && child < children.size()) {
                children.get(child++).text().lines().forEach(l -> sb.append(CHILD_PREFIX).append(l).append('\n'));
            }
        }
        for (int i = 0; i < maps.size(); i++) {
            sb.append(maps.get(i).text()).append('\n');
            if (i < smaps.size()) {
                sb.append(smaps.get(i).text()).append('\n');
            }
        }
        return sb.toString();
    }
}
