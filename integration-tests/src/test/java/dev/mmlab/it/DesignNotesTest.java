package dev.mmlab.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every concurrent class opens with design notes in one format (CONVENTIONS.md, "Concurrency classes"): its
 * class javadoc holds {@code <h2>Design notes</h2>} with at least "What protects what" and "Lock order".
 *
 * <p>Walks {@code ../*}{@code /src/main/java} and {@code ../examples/*}{@code /src/main/java} from this module's
 * directory (surefire's working directory). A top-level class is concurrent when its code (comments and string
 * literals removed) uses {@code synchronized}, {@code volatile}, {@code java.util.concurrent.locks} or
 * {@code .atomic}, {@code VarHandle}, the seam's {@code Mutex} or {@code Sched}, or a concurrent collection, or implements (also anonymously or as a
 * lambda) one of the locking SPI types: {@code MmLock}, {@code MmLockGuard}, {@code FaultHandler},
 * {@code FaultAttempt}, {@code VmaTree}, {@code VmaLock}, {@code RangeLock}, {@code RwsemMmLock.Hooks},
 * {@code StrategyInstance}. Its class javadoc is the {@code /** ... *}{@code /} right before the declaration;
 * annotations and modifiers may stand between them, another comment may not hold the notes instead.
 */
class DesignNotesTest {
    static final List<String> REQUIRED = List.of("<h2>Design notes</h2>", "What protects what", "Lock order");

    static final String HINT = "Format (class javadoc, after the summary; see RangeLockInstance): <h2>Design notes</h2>"
            + " <ul> <li><b>What protects what.</b> ...</li> <li><b>Lock order.</b> ... (or \"none: ...\" and why)</li>"
            + " [<li><b>What a reader may see mid-update.</b> ...</li>] [<li><b>Follows.</b> ...</li>] </ul>";

    private static final String PROTOCOL_TYPES = "MmLock|MmLockGuard|FaultHandler|FaultAttempt|HoldingFaultAttempt"
            + "|VmaTree|VmaLock|RangeLock|Hooks|StrategyInstance";

    private static final List<Pattern> CONCURRENT = List.of(
            Pattern.compile("\\bsynchronized\\b"),
            Pattern.compile("\\bvolatile\\b"),
            Pattern.compile("\\bjava\\.util\\.concurrent\\.(locks|atomic)\\b"),
            Pattern.compile("\\bVarHandle\\b"),
            // Waits or locks through the seam (dev.mmlab.api.sync).
            Pattern.compile("\\b(Mutex|Sched)\\b"),
            Pattern.compile("\\b(ConcurrentHashMap|ConcurrentMap|ConcurrentNavigableMap|ConcurrentLinkedQueue"
                    + "|ConcurrentLinkedDeque|ConcurrentSkipListMap|ConcurrentSkipListSet|CopyOnWriteArrayList"
                    + "|CopyOnWriteArraySet|BlockingQueue|BlockingDeque|ArrayBlockingQueue|LinkedBlockingQueue"
                    + "|LinkedBlockingDeque|PriorityBlockingQueue|DelayQueue|SynchronousQueue|TransferQueue"
                    + "|LinkedTransferQueue)\\b"),
            Pattern.compile("\\bCollections\\s*\\.\\s*synchronized\\w+"),
            // Owns a locking protocol: implements an SPI type, by name, anonymously or as a lambda.
            Pattern.compile("\\b(implements|extends)\\s[^{;]*\\b(" + PROTOCOL_TYPES + ")\\b"),
            Pattern.compile("\\bnew\\s+(\\w+\\s*\\.\\s*)*(" + PROTOCOL_TYPES + ")\\s*\\(\\s*\\)\\s*\\{"),
            Pattern.compile("\\b(" + PROTOCOL_TYPES + ")\\s+\\w+\\s*=\\s*(\\([^()]*\\)|\\w+)\\s*->"));

    /** What may stand between a class javadoc and the declaration keyword: blanks, annotations, modifiers. */
    private static final Pattern BETWEEN_JAVADOC_AND_CLASS = Pattern.compile("(\\s|@[\\w.]+(\\s*\\((?:[^()]|\\([^()]*\\))*\\))?"
            + "|public|protected|private|abstract|final|static|sealed|non-sealed|strictfp)*");

    @Test
    void everyConcurrentClassHasDesignNotesInItsJavadoc() throws IOException {
        Path repo = Paths.get("").toAbsolutePath().getParent();
        List<Path> roots = sourceRoots(repo);
        assertThat(roots).as("source roots under %s", repo)
                .anySatisfy(r -> assertThat(r.toString()).contains("impl-rangelock"))
                .anySatisfy(r -> assertThat(r.toString()).contains("naive-strategy"));

        List<String> concurrent = new ArrayList<>();
        List<String> offenders = new ArrayList<>();
        for (Path root : roots) {
            for (Path file : javaFiles(root)) {
                String problem = check(file.getFileName().toString(), Files.readString(file, StandardCharsets.UTF_8));
                if (problem == null) {
                    continue;
                }
                String where = repo.relativize(file).toString();
                concurrent.add(where);
                if (!problem.isEmpty()) {
                    offenders.add(where + ": " + problem);
                }
            }
        }
        // Guards against a walk that silently finds nothing (a moved module, another working directory).
        assertThat(concurrent).as("concurrent classes found").hasSizeGreaterThan(40)
                .anySatisfy(f -> assertThat(f).endsWith("RangeLockInstance.java"))
                .anySatisfy(f -> assertThat(f).endsWith("PerVmaInstance.java"))
                .anySatisfy(f -> assertThat(f).endsWith("MeasureWindow.java"))
                .anySatisfy(f -> assertThat(f).endsWith("NaiveStrategy.java"));
        assertThat(offenders)
                .withFailMessage(() -> offenders.size() + " concurrent class(es) without design notes in the class"
                        + " javadoc:\n  " + String.join("\n  ", offenders) + "\n" + HINT)
                .isEmpty();
    }

    @Test
    void aKeywordInACommentOrStringDoesNotMakeAClassConcurrent() {
        String source = "package p;\n/** Plain. Never synchronized. */\npublic final class Plain {\n"
                + "    // volatile would be wrong here\n    String s = \"VarHandle and volatile\";\n}\n";
        assertThat(check("Plain.java", source)).isNull();
    }

    @Test
    void annotationsAndModifiersMayStandBetweenJavadocAndClass() {
        String source = "package p;\nimport java.util.concurrent.atomic.AtomicLong;\n"
                + "/**\n * Counts.\n *\n * <h2>Design notes</h2>\n * <ul>\n *   <li><b>What protects what.</b> x</li>\n"
                + " *   <li><b>Lock order.</b> none</li>\n * </ul>\n */\n@SuppressWarnings(\"unused\")\n"
                + "@Deprecated(since = \"1\")\npublic final class Counted {\n    final AtomicLong n = new AtomicLong();\n}\n";
        assertThat(check("Counted.java", source)).isEmpty();
    }

    @Test
    void notesOutsideTheClassJavadocDoNotCount() {
        String source = "package p;\n/*\n * <h2>Design notes</h2> What protects what. Lock order.\n */\n"
                + "/** A lock. */\nfinal class Guard implements MmLockGuard {\n}\n";
        assertThat(check("Guard.java", source)).contains("lacks");
        String anonymous = "package p;\nfinal class Parts {\n    Object x = new StrategyInstance() {\n    };\n}\n";
        assertThat(check("Parts.java", anonymous)).contains("no class javadoc");
        String lambda = "package p;\n/** S. */\nfinal class S {\n    FaultHandler f = (c, a, x) -> null;\n}\n";
        assertThat(check("S.java", lambda)).contains("lacks");
    }

    /**
     * Null when the top-level class of {@code source} is not concurrent; else the empty string when its class
     * javadoc has the notes, or what is wrong.
     */
    static String check(String fileName, String source) {
        Stripped s = strip(source);
        if (CONCURRENT.stream().noneMatch(p -> p.matcher(s.code).find())) {
            return null;
        }
        String name = fileName.substring(0, fileName.length() - ".java".length());
        Matcher decl = Pattern.compile("\\b(class|interface|enum|record)\\s+" + Pattern.quote(name) + "\\b")
                .matcher(s.code);
        if (!decl.find()) {
            return "no declaration of " + name + " found";
        }
        int[] javadoc = null;
        for (int[] span : s.javadocs) {
            if (span[1] <= decl.start()) {
                javadoc = span;
            }
        }
        if (javadoc == null || !BETWEEN_JAVADOC_AND_CLASS.matcher(s.code.substring(javadoc[1], decl.start())).matches()) {
            return "no class javadoc right before the declaration of " + name;
        }
        String text = source.substring(javadoc[0], javadoc[1]);
        List<String> missing = REQUIRED.stream().filter(r -> !text.contains(r)).collect(Collectors.toList());
        return missing.isEmpty() ? "" : "class javadoc lacks " + String.join(", ", missing);
    }

    /** {@code source} with comments and literal contents blanked (offsets kept), and its javadoc spans. */
    private static Stripped strip(String source) {
        StringBuilder code = new StringBuilder(source);
        List<int[]> javadocs = new ArrayList<>();
        int n = source.length();
        int i = 0;
        while (i < n) {
            char c = source.charAt(i);
            if (c == '/' && i + 1 < n && source.charAt(i + 1) == '/') {
                int end = source.indexOf('\n', i);
                end = end < 0 ? n : end;
                blank(code, i, end);
                i = end;
            } else if (c == '/' && i + 1 < n && source.charAt(i + 1) == '*') {
                int end = source.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                if (source.startsWith("/**", i) && !source.startsWith("/**/", i)) {
                    javadocs.add(new int[] {i, end});
                }
                blank(code, i, end);
                i = end;
            } else if (source.startsWith("\"\"\"", i)) {
                int end = source.indexOf("\"\"\"", i + 3);
                end = end < 0 ? n : end;
                blank(code, i + 3, end);
                i = Math.min(n, end + 3);
            } else if (c == '"' || c == '\'') {
                int j = i + 1;
                while (j < n && source.charAt(j) != c && source.charAt(j) != '\n') {
                    j += source.charAt(j) == '\\' ? 2 : 1;
                }
                j = Math.min(j, n);
                blank(code, i + 1, j);
                i = j + 1;
            } else {
                i++;
            }
        }
        return new Stripped(code.toString(), javadocs);
    }

    private static void blank(StringBuilder code, int from, int to) {
        for (int k = from; k < to; k++) {
            if (code.charAt(k) != '\n') {
                code.setCharAt(k, ' ');
            }
        }
    }

    private record Stripped(String code, List<int[]> javadocs) {}

    private static List<Path> sourceRoots(Path repo) throws IOException {
        List<Path> roots = new ArrayList<>();
        for (Path parent : List.of(repo, repo.resolve("examples"))) {
            try (Stream<Path> dirs = Files.list(parent)) {
                dirs.map(d -> d.resolve("src/main/java")).filter(Files::isDirectory).sorted().forEach(roots::add);
            }
        }
        return roots;
    }

    private static List<Path> javaFiles(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(f -> f.toString().endsWith(".java"))
                    .filter(f -> !f.getFileName().toString().equals("package-info.java"))
                    .filter(f -> !f.getFileName().toString().equals("module-info.java"))
                    .sorted()
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
