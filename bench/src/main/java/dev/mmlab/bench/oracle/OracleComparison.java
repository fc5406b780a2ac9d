package dev.mmlab.bench.oracle;

import dev.mmlab.bench.replay.MapsComparison;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the model's answers to a script differ from the kernel's: each op's result (return value or errno, touch
 * outcome), then the window's final maps field by field ({@link MapsComparison}), then the smaps fields of the
 * VMAs both sides have.
 *
 * <p>Inode numbers of shared anonymous memory are the kernel's choice (the shmem inode), so each side's inodes
 * are renumbered 1, 2, ... in order of first appearance before the maps are compared: what must agree is which
 * VMAs share an object, not its number.
 *
 * @param ops per op that differs: {@code FILE:LINE: OP: kernel X, model Y}
 * @param maps the first maps line that differs (both sides), or null when the maps agree
 * @param mapsSideBySide both sides' maps lines, differing ones marked {@code !}; empty when they agree
 * @param smaps per VMA whose smaps fields differ
 */
public record OracleComparison(List<String> ops, String maps, String mapsSideBySide, List<String> smaps) {
    public OracleComparison {
        ops = List.copyOf(ops);
        smaps = List.copyOf(smaps);
    }

    /** Whether the model answered exactly as the kernel did. */
    public boolean same() {
        return ops.isEmpty() && maps == null && smaps.isEmpty();
    }

    /** The differences, one or more lines each; empty when {@link #same()}. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        ops.forEach(d -> sb.append(d).append('\n'));
        if (maps != null) {
            sb.append("final maps: ").append(maps).append('\n').append(mapsSideBySide);
        }
        smaps.forEach(d -> sb.append(d).append('\n'));
        return sb.toString();
    }

    /** Compares the model's {@code model} run of {@code script} with the kernel's {@code kernel} run. */
    public static OracleComparison of(OpScript script, OracleOutput kernel, OracleOutput model) {
        List<String> ops = new ArrayList<>();
        for (int i = 0; i < script.ops().size(); i++) {
            String k = i < kernel.results().size() ? kernel.results().get(i) : "(no answer)";
            String m = i < model.results().size() ? model.results().get(i) : "(no answer)";
            if (!k.equals(m)) {
                ops.add(script.source() + ":" + script.lineNos().get(i) + ": " + script.ops().get(i).text()
                        + ": kernel " + k + ", model " + m);
            }
        }
        List<MapsComparison.Line> km = renumberInodes(kernel.maps());
        List<MapsComparison.Line> mm = renumberInodes(model.maps());
        String maps = MapsComparison.firstDifference(km, mm);
        List<String> smaps = new ArrayList<>();
        for (OracleOutput.Smaps k : kernel.smaps()) {
            for (OracleOutput.Smaps m : model.smaps()) {
                if (k.start() == m.start() && k.end() == m.end() && !k.equals(m)) {
                    smaps.add("smaps " + k.start() + "-" + k.end() + ": kernel " + fields(k) + ", model " + fields(m));
                }
            }
        }
        return new OracleComparison(ops, maps, maps == null ? "" : MapsComparison.sideBySide(km, mm), smaps);
    }

    private static String fields(OracleOutput.Smaps s) {
        return "Size " + s.sizeKb() + " Rss " + s.rssKb() + " Anonymous " + s.anonKb() + " Dirty " + s.dirtyKb()
                + " Locked " + (s.locked() ? "yes" : "no");
    }

    private static List<MapsComparison.Line> renumberInodes(List<MapsComparison.Line> lines) {
        Map<Long, Long> numbers = new HashMap<>();
        List<MapsComparison.Line> out = new ArrayList<>();
        for (MapsComparison.Line l : lines) {
            long inode = l.inode() == 0 ? 0 : numbers.computeIfAbsent(l.inode(), k -> numbers.size() + 1L);
            out.add(OracleOutput.mapLine(l.start(), l.end(), l.perms(), l.offset(), l.device(), inode, l.path()));
        }
        return out;
    }
}
