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
 * <p>Inode numbers of shared anonymous memory and of the script's files are each side's own choice (the shmem
 * inode, the file system's), and so are the files' devices, so each side's inodes and devices other than
 * {@code 00:00} are renumbered 1, 2, ... in order of first appearance before the maps are compared: what must
 * agree is which VMAs share an object, not its number. A file's path is its script name on both sides.
 *
 * <p>A fork's child is compared the same way, its ops named {@code FILE:LINE: fork child op N}; its differences
 * are listed under {@link #children} and make the fork itself count as differing ({@link #forksDiffering}).
 *
 * @param ops per op that differs: {@code FILE:LINE: OP: kernel X, model Y}
 * @param maps the first maps line that differs (both sides), or null when the maps agree
 * @param mapsSideBySide both sides' maps lines, differing ones marked {@code !}; empty when they agree
 * @param smaps per VMA whose smaps fields differ
 * @param children per difference in a fork's child (its ops, its final maps and smaps), one line each
 * @param forksDiffering the indexes, in the script's ops, of the forks whose child differs
 */
public record OracleComparison(List<String> ops, String maps, String mapsSideBySide, List<String> smaps,
        List<String> children, List<Integer> forksDiffering) {
    public OracleComparison {
        ops = List.copyOf(ops);
        smaps = List.copyOf(smaps);
        children = List.copyOf(children);
        forksDiffering = List.copyOf(forksDiffering);
    }

    /** Whether the model answered exactly as the kernel did. */
    public boolean same() {
        return ops.isEmpty() && maps == null && smaps.isEmpty() && children.isEmpty();
    }

    /** The differences, one or more lines each; empty when {@link #same()}. */
    public String report() {
        StringBuilder sb = new StringBuilder();
        ops.forEach(d -> sb.append(d).append('\n'));
        if (maps != null) {
            sb.append("final maps: ").append(maps).append('\n').append(mapsSideBySide);
        }
        smaps.forEach(d -> sb.append(d).append('\n'));
        children.forEach(d -> sb.append(d).append('\n'));
        return sb.toString();
    }

    /** Compares the model's {@code model} run of {@code script} with the kernel's {@code kernel} run. */
    public static OracleComparison of(OpScript script, OracleOutput kernel, OracleOutput model) {
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < script.ops().size(); i++) {
            labels.add(script.source() + ":" + script.lineNos().get(i));
        }
        return of(labels, script.ops(), kernel, model);
    }

    /** {@code labels} name each op in messages ({@code FILE:LINE}, or a child's {@code ... fork child op N}). */
    private static OracleComparison of(List<String> labels, List<Op> script, OracleOutput kernel, OracleOutput model) {
        List<String> ops = new ArrayList<>();
        List<String> children = new ArrayList<>();
        List<Integer> forksDiffering = new ArrayList<>();
        int child = 0;
        for (int i = 0; i < script.size(); i++) {
            String k = i < kernel.results().size() ? kernel.results().get(i) : "(no answer)";
            String m = i < model.results().size() ? model.results().get(i) : "(no answer)";
            Op op = script.get(i);
            if (!k.equals(m)) {
                ops.add(labels.get(i) + ": " + oneLine(op) + ": kernel " + k + ", model " + m);
            }
            if (op instanceof Op.Fork fork && k.equals(OracleOutput.FORKED) && m.equals(OracleOutput.FORKED)
                    && child < kernel.children().size() && child < model.children().size()) {
                List<String> childLabels = new ArrayList<>();
                for (int j = 0; j < fork.child().size(); j++) {
                    childLabels.add(labels.get(i) + ": fork child op " + (j + 1));
                }
                OracleComparison c = of(childLabels, fork.child(), kernel.children().get(child),
                        model.children().get(child));
                child++;
                if (!c.same()) {
                    forksDiffering.add(i);
                    String where = labels.get(i) + ": fork child: ";
                    children.addAll(c.ops());
                    if (c.maps() != null) {
                        children.add(where + "final maps: " + c.maps());
                        c.mapsSideBySide().lines().forEach(l -> children.add(where + l));
                    }
                    c.smaps().forEach(l -> children.add(where + l));
                    children.addAll(c.children());
                }
            }
        }
        List<MapsComparison.Line> km = renumber(kernel.maps());
        List<MapsComparison.Line> mm = renumber(model.maps());
        String maps = MapsComparison.firstDifference(km, mm);
        List<String> smaps = new ArrayList<>();
        for (OracleOutput.Smaps k : kernel.smaps()) {
            for (OracleOutput.Smaps m : model.smaps()) {
                if (k.start() == m.start() && k.end() == m.end() && !k.equals(m)) {
                    smaps.add("smaps " + k.start() + "-" + k.end() + ": kernel " + fields(k) + ", model " + fields(m));
                }
            }
        }
        return new OracleComparison(ops, maps, maps == null ? "" : MapsComparison.sideBySide(km, mm), smaps,
                children, forksDiffering);
    }

    /** An op in one line: a fork as {@code fork { N ops }}. */
    private static String oneLine(Op op) {
        return op instanceof Op.Fork f ? "fork { " + f.child().size() + " ops }" : op.text();
    }

    private static String fields(OracleOutput.Smaps s) {
        return "Size " + s.sizeKb() + " Rss " + s.rssKb() + " Anonymous " + s.anonKb() + " Dirty " + s.dirtyKb()
                + " Locked " + (s.locked() ? "yes" : "no");
    }

    private static List<MapsComparison.Line> renumber(List<MapsComparison.Line> lines) {
        Map<Long, Long> inodes = new HashMap<>();
        Map<String, String> devices = new HashMap<>();
        List<MapsComparison.Line> out = new ArrayList<>();
        for (MapsComparison.Line l : lines) {
            long inode = l.inode() == 0 ? 0 : inodes.computeIfAbsent(l.inode(), k -> inodes.size() + 1L);
            String device = l.device().equals("0:0") ? l.device()
                    : devices.computeIfAbsent(l.device(), k -> "0:" + (devices.size() + 1));
            out.add(OracleOutput.mapLine(l.start(), l.end(), l.perms(), l.offset(), device, inode, l.path()));
        }
        return out;
    }
}
