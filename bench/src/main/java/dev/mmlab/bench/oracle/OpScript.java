package dev.mmlab.bench.oracle;

import dev.mmlab.bench.oracle.Op.MmapOption;
import dev.mmlab.bench.oracle.Op.Placement;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * An op script: a window of address space and the ops to run in it, in order, as text one op a line. Every
 * address is a page offset in the window and every length a page count, so the same script runs on the kernel
 * and on the model wherever each puts the window.
 *
 * <pre>
 * # a comment; blank lines are ignored
 * window 512                                   optional, first: the window's size in pages (default 512)
 * mmap 10 4 rw- private anon fixed             PAGE PAGES PROT private|shared anon fixed|noreplace|hint
 * file F1 12                                  before the first op: a file of 12 pages (page i holds i + 1)
 * mmap 30 2 r-- shared anon hint populate      ... then any of: populate noreserve growsdown locked
 * mmap 40 4 rw- shared file F1 2 fixed         file NAME OFFSET_PAGES instead of anon; the offset may pass the end
 * munmap 10 2
 * mprotect 11 1 r--                            PROT is three letters, r w x or '-': rw-, r-x, ---
 * pkey_mprotect 11 1 ---                       with key -1 (the default key): mprotect
 * mremap 10 4 8 maymove                        PAGE OLD_PAGES NEW_PAGES [maymove] [dontunmap] [fixed NEW_PAGE]
 * madvise 10 4 dontneed                        any {@link Advice} word: dontneed free cold pageout willneed ...
 * mlock 10 2                                   [onfault]: mlock2(MLOCK_ONFAULT)
 * munlock 10 2
 * mlockall current future                      any of current future onfault, in any order
 * munlockall
 * touch 12 write                               read|write one byte of the page: mapped, SIGSEGV or SIGBUS
 * fork {                                       the child runs the ops up to the closing brace, then exits;
 *   touch 12 write                             the parent waits for it and sees none of its changes
 * }
 * </pre>
 *
 * A mapping without {@code fixed} or {@code noreplace} gives its page as a hint.
 * Every range must lie inside the window (a page count may be 0, which the kernel refuses with EINVAL). A bad line
 * is a {@link ScriptFormatException}: {@code FILE:LINE: what is wrong}.
 *
 * @param source where the script came from (a path, or a name for generated scripts)
 * @param windowPages the window's size in pages
 * @param files the files the script declares, in order
 * @param ops the ops in order (a fork's child ops inside it)
 * @param lineNos the source line of each op (1-based; for a printed script, its line in {@link #print()})
 */
public record OpScript(String source, int windowPages, List<DeclaredFile> files, List<Op> ops,
        List<Integer> lineNos) {
    /** The window the held-out cases use: 512 pages, one aligned 2 MiB block. */
    public static final int DEFAULT_WINDOW_PAGES = 512;
    /** Far more than any script needs; keeps a typo from asking for terabytes. */
    public static final int MAX_WINDOW_PAGES = 1 << 20;
    /** The largest file a script may declare, in pages (64 MiB). */
    public static final int MAX_FILE_PAGES = 1 << 14;

    /**
     * A file the script maps: {@code pages} pages whose content is known (page {@code i} holds the number
     * {@code i + 1}), named in maps output by its script name.
     */
    public record DeclaredFile(String name, long pages) {
        String text() {
            return "file " + name + " " + pages;
        }
    }

    public OpScript {
        files = List.copyOf(files);
        ops = List.copyOf(ops);
        lineNos = List.copyOf(lineNos);
        if (ops.size() != lineNos.size()) {
            throw new IllegalArgumentException("one line number per op");
        }
    }

    /** A script built in code (the fuzzer's): its line numbers are those of {@link #print()}. */
    public static OpScript of(String source, int windowPages, List<DeclaredFile> files, List<Op> ops) {
        List<Integer> lines = new ArrayList<>();
        int line = 2 + files.size();
        for (Op op : ops) {
            lines.add(line);
            line += (int) op.text().lines().count();
        }
        return new OpScript(source, windowPages, files, ops, lines);
    }

    /** This script's window and files with other ops (shrinking). */
    public OpScript withOps(List<Op> newOps) {
        return of(source, windowPages, files, newOps);
    }

    /**
     * The canonical text: the window line, the files, then one op a line (a fork's block over several).
     * {@code parse(print())} gives this script back.
     */
    public String print() {
        StringBuilder sb = new StringBuilder("window ").append(windowPages).append('\n');
        for (DeclaredFile f : files) {
            sb.append(f.text()).append('\n');
        }
        for (Op op : ops) {
            sb.append(op.text()).append('\n');
        }
        return sb.toString();
    }

    /** The first {@code n} ops (shrinking a failing script). */
    public OpScript prefix(int n) {
        return new OpScript(source, windowPages, files, ops.subList(0, n), lineNos.subList(0, n));
    }

    /**
     * Reads a script file.
     *
     * @throws ScriptFormatException for a bad line, or a file that cannot be read ({@code FILE:0: ...})
     */
    public static OpScript read(Path file) throws ScriptFormatException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new ScriptFormatException(file.toString(), 0, "no such file");
        } catch (IOException e) {
            throw new ScriptFormatException(file.toString(), 0, "cannot read: " + e.getMessage());
        }
        return parse(file.toString(), text);
    }

    /**
     * Parses a script's text; {@code source} names it in messages.
     *
     * @throws ScriptFormatException at the first bad line
     */
    public static OpScript parse(String source, String text) throws ScriptFormatException {
        int window = DEFAULT_WINDOW_PAGES;
        List<DeclaredFile> files = new ArrayList<>();
        List<Op> ops = new ArrayList<>();
        List<Integer> lineNos = new ArrayList<>();
        // The blocks being read: a fork's child ops collect on top until its closing brace.
        Deque<List<Op>> open = new ArrayDeque<>();
        Deque<Integer> openedAt = new ArrayDeque<>();
        String[] lines = text.split("\n", -1);
        boolean first = true;
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i];
            int hash = line.indexOf('#');
            String content = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (content.isEmpty()) {
                continue;
            }
            Tokens t = new Tokens(source, i + 1, content, window, files);
            String name = t.next("an op");
            if (name.equals("window")) {
                if (!first) {
                    throw t.error("'window' must come before the first op");
                }
                window = (int) t.number("the window's size in pages", 1, MAX_WINDOW_PAGES);
                t.end();
            } else if (name.equals("file")) {
                if (!ops.isEmpty() || !open.isEmpty()) {
                    throw t.error("'file' must come before the first op");
                }
                files.add(t.file());
            } else if (name.equals("}")) {
                t.end();
                if (open.isEmpty()) {
                    throw t.error("'}' closes no fork");
                }
                openedAt.pop();
                Op fork = new Op.Fork(open.pop());
                (open.isEmpty() ? ops : open.peek()).add(fork);
            } else if (name.equals("fork")) {
                t.expect("{");
                t.end();
                open.push(new ArrayList<>());
                openedAt.push(i + 1);
                if (open.size() == 1) {
                    lineNos.add(i + 1);
                }
            } else if (!open.isEmpty()) {
                open.peek().add(t.op(name));
            } else {
                ops.add(t.op(name));
                lineNos.add(i + 1);
            }
            first = false;
        }
        if (!open.isEmpty()) {
            throw new ScriptFormatException(source, openedAt.peek(), "'fork {' is not closed by a '}'");
        }
        return new OpScript(source, window, files, ops, lineNos);
    }

    /** One line's words, read left to right, each checked as it is taken. */
    private static final class Tokens {
        private final String source;
        private final int lineNo;
        private final String[] words;
        private final long window;
        private final List<DeclaredFile> files;
        private int pos;

        Tokens(String source, int lineNo, String content, long window, List<DeclaredFile> files) {
            this.source = source;
            this.lineNo = lineNo;
            this.words = content.split("\\s+");
            this.window = window;
            this.files = files;
        }

        /** {@code NAME PAGES} after {@code file}. */
        DeclaredFile file() throws ScriptFormatException {
            String name = next("a file name");
            if (!name.matches("[A-Za-z][A-Za-z0-9_]{0,31}")) {
                throw error("a file name is a letter then up to 31 letters, digits or '_', found '" + name + "'");
            }
            for (DeclaredFile f : files) {
                if (f.name().equals(name)) {
                    throw error("file " + name + " is already declared");
                }
            }
            long pages = number("the file's size in pages", 0, MAX_FILE_PAGES);
            end();
            return new DeclaredFile(name, pages);
        }

        void expect(String word) throws ScriptFormatException {
            String w = next("'" + word + "'");
            if (!w.equals(word)) {
                throw error("expected '" + word + "', found '" + w + "'");
            }
        }

        Op op(String name) throws ScriptFormatException {
            switch (name) {
                case "mmap":
                    return mmap();
                case "munmap": {
                    long[] r = range();
                    end();
                    return new Op.Munmap(r[0], r[1]);
                }
                case "mprotect":
                case "pkey_mprotect": {
                    long[] r = range();
                    int prot = prot();
                    end();
                    return new Op.Mprotect(r[0], r[1], prot, name.equals("pkey_mprotect"));
                }
                case "mremap":
                    return mremap();
                case "madvise": {
                    long[] r = range();
                    String word = next("an advice");
                    Advice advice = Advice.ofWord(word);
                    if (advice == null) {
                        throw error("unknown advice '" + word + "'; one of " + words(Advice.values()));
                    }
                    end();
                    return new Op.Madvise(r[0], r[1], advice);
                }
                case "mlock": {
                    long[] r = range();
                    boolean onfault = optional("onfault");
                    end();
                    return new Op.Mlock(r[0], r[1], onfault);
                }
                case "munlock": {
                    long[] r = range();
                    end();
                    return new Op.Munlock(r[0], r[1]);
                }
                case "mlockall": {
                    boolean current = false;
                    boolean future = false;
                    boolean onfault = false;
                    while (pos < words.length) {
                        String w = words[pos++];
                        switch (w) {
                            case "current" -> current = true;
                            case "future" -> future = true;
                            case "onfault" -> onfault = true;
                            default -> throw error("unknown mlockall flag '" + w + "'; any of current future onfault");
                        }
                    }
                    return new Op.Mlockall(current, future, onfault);
                }
                case "munlockall":
                    end();
                    return new Op.Munlockall();
                case "touch": {
                    long page = number("a page offset", 0, window - 1);
                    String how = next("read or write");
                    if (!how.equals("read") && !how.equals("write")) {
                        throw error("expected read or write, found '" + how + "'");
                    }
                    end();
                    return new Op.Touch(page, how.equals("write"));
                }
                default:
                    throw error("unknown op '" + name + "'; one of window file mmap munmap mprotect pkey_mprotect "
                            + "mremap madvise mlock munlock mlockall munlockall touch fork");
            }
        }

        private Op mmap() throws ScriptFormatException {
            long[] r = range();
            int prot = prot();
            String type = next("private or shared");
            if (!type.equals("private") && !type.equals("shared")) {
                throw error("expected private or shared, found '" + type + "'");
            }
            String backing = next("anon or file");
            String file = null;
            long offset = 0;
            if (backing.equals("file")) {
                file = next("a file name");
                if (!declared(file)) {
                    throw error("file " + file + " is not declared; declare it first with 'file " + file + " PAGES'");
                }
                offset = number("the file offset in pages", 0, MAX_FILE_PAGES);
            } else if (!backing.equals("anon")) {
                throw error("expected anon or file, found '" + backing + "'");
            }
            String where = next("fixed, noreplace or hint");
            Placement placement = enumWord(Placement.class, where);
            if (placement == null) {
                throw error("expected fixed, noreplace or hint, found '" + where + "'");
            }
            Set<MmapOption> options = EnumSet.noneOf(MmapOption.class);
            while (pos < words.length) {
                String w = words[pos++];
                MmapOption o = enumWord(MmapOption.class, w);
                if (o == null) {
                    throw error("unknown mmap option '" + w + "'; one of " + words(MmapOption.values()));
                }
                options.add(o);
            }
            return new Op.Mmap(r[0], r[1], prot, type.equals("shared"), file, offset, placement, options);
        }

        private boolean declared(String name) {
            return files.stream().anyMatch(f -> f.name().equals(name));
        }

        private Op mremap() throws ScriptFormatException {
            long page = number("a page offset", 0, window - 1);
            long oldPages = number("the old length in pages", 0, window - page);
            long newPages = number("the new length in pages", 0, window - page);
            boolean maymove = optional("maymove");
            boolean dontunmap = optional("dontunmap");
            long newPage = -1;
            if (optional("fixed")) {
                newPage = number("the new page offset", 0, window - 1);
                if (newPage + newPages > window) {
                    throw error("the new range " + newPage + "+" + newPages + " ends past the window (" + window
                            + " pages)");
                }
            }
            end();
            return new Op.Mremap(page, oldPages, newPages, maymove, dontunmap, newPage);
        }

        /** PAGE PAGES, inside the window. */
        private long[] range() throws ScriptFormatException {
            long page = number("a page offset", 0, window - 1);
            long pages = number("a length in pages", 0, window - page);
            return new long[] {page, pages};
        }

        private int prot() throws ScriptFormatException {
            String w = next("a protection such as rw-");
            if (w.length() != 3 || "r-".indexOf(w.charAt(0)) < 0 || "w-".indexOf(w.charAt(1)) < 0
                    || "x-".indexOf(w.charAt(2)) < 0) {
                throw error("expected a protection of three letters r, w, x or '-' (rw-, r-x, ---), found '" + w + "'");
            }
            return (w.charAt(0) == 'r' ? 1 : 0) | (w.charAt(1) == 'w' ? 2 : 0) | (w.charAt(2) == 'x' ? 4 : 0);
        }

        long number(String what, long min, long max) throws ScriptFormatException {
            String w = next(what);
            long v;
            try {
                v = Long.parseLong(w);
            } catch (NumberFormatException e) {
                throw error("expected " + what + ", found '" + w + "'");
            }
            if (v < min || v > max) {
                throw error(what + " " + v + " is outside " + min + ".." + max + " (the window has " + window + " pages)");
            }
            return v;
        }

        private boolean optional(String word) {
            if (pos < words.length && words[pos].equals(word)) {
                pos++;
                return true;
            }
            return false;
        }

        String next(String what) throws ScriptFormatException {
            if (pos >= words.length) {
                throw error("expected " + what + " after '" + String.join(" ", words) + "'");
            }
            return words[pos++];
        }

        void end() throws ScriptFormatException {
            if (pos < words.length) {
                throw error("unexpected '" + words[pos] + "' at the end of '" + words[0] + "'");
            }
        }

        ScriptFormatException error(String reason) {
            return new ScriptFormatException(source, lineNo, reason);
        }

        private static <E extends Enum<E>> E enumWord(Class<E> type, String word) {
            for (E e : type.getEnumConstants()) {
                if (e.name().toLowerCase(Locale.ROOT).equals(word)) {
                    return e;
                }
            }
            return null;
        }

        private static String words(Enum<?>[] values) {
            StringBuilder sb = new StringBuilder();
            for (Enum<?> e : values) {
                sb.append(sb.length() == 0 ? "" : " ").append(e.name().toLowerCase(Locale.ROOT));
            }
            return sb.toString();
        }
    }
}
