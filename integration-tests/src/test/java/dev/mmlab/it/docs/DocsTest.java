package dev.mmlab.it.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the Markdown docs true. Every Java block must be a copy of compiled code: the block is preceded by
 * {@code <!-- snippet: PATH -->} (a whole file) or {@code <!-- snippet: PATH#TAG -->} (the lines between
 * {@code // tag::TAG[]} and {@code // end::TAG[]}, dedented), PATH relative to the repository root, and
 * must equal it line for line; other blocks may carry a marker too and are then checked the same way. Every
 * relative link and image resolves to a file inside the repository, and no doc points outside it.
 */
class DocsTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern MARKER = Pattern.compile("<!-- snippet: ([^#\\s]+)(?:#([\\w-]+))? -->");
    private static final Pattern LINK = Pattern.compile("!?\\[[^\\]]*\\]\\(([^)\\s]+)\\)");

    private static List<Path> docs() throws IOException {
        List<Path> docs = new ArrayList<>(List.of(ROOT.resolve("README.md"),
                ROOT.resolve("integration-tests/CONFORMANCE.md"), ROOT.resolve("examples/README.md")));
        try (Stream<Path> files = Files.list(ROOT.resolve("docs"))) {
            files.filter(p -> p.toString().endsWith(".md")).sorted().forEach(docs::add);
        }
        return docs;
    }

    @Test
    void everyJavaBlockIsCompiledCode() throws IOException {
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Path doc : docs()) {
            List<String> lines = Files.readAllLines(doc);
            for (int i = 0; i < lines.size(); i++) {
                String fence = lines.get(i).stripLeading();
                if (!fence.startsWith("```")) {
                    continue;
                }
                int indent = lines.get(i).length() - fence.length();
                String language = fence.substring(3).trim();
                int end = i + 1;
                while (end < lines.size() && !lines.get(end).stripLeading().startsWith("```")) {
                    end++;
                }
                List<String> block = stripTrailing(lines.subList(i + 1, end).stream()
                        .map(l -> l.substring(Math.min(indent, l.length() - l.stripLeading().length()))).toList());
                String where = ROOT.relativize(doc) + ":" + (i + 1);
                Matcher marker = MARKER.matcher(previousNonBlank(lines, i));
                if (marker.matches()) {
                    checked++;
                    String problem = compare(block, marker.group(1), marker.group(2));
                    if (problem != null) {
                        problems.add(where + ": " + problem);
                    }
                } else if (language.equals("java")) {
                    problems.add(where + ": a java block without a <!-- snippet: PATH#TAG --> line above it");
                }
                i = end;
            }
        }
        assertThat(problems).as("doc snippets").isEmpty();
        assertThat(checked).as("snippets checked").isPositive();
    }

    @Test
    void linksResolveInsideTheRepository() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Path doc : docs()) {
            String text = Files.readString(doc);
            if (text.contains("../shared") || text.contains("/work/")) {
                problems.add(ROOT.relativize(doc) + ": names a path outside the repository");
            }
            Matcher link = LINK.matcher(text);
            while (link.find()) {
                String target = link.group(1);
                if (target.matches("^(https?|mailto):.*") || target.startsWith("#")) {
                    continue;
                }
                Path file = doc.getParent().resolve(target.replaceFirst("#.*", "")).normalize();
                if (!file.startsWith(ROOT) || !Files.exists(file)) {
                    problems.add(ROOT.relativize(doc) + ": broken link " + target);
                }
            }
        }
        assertThat(problems).as("doc links").isEmpty();
    }

    /** Null when {@code block} equals the file or tagged region, else what differs. */
    private static String compare(List<String> block, String path, String tag) {
        Path source = ROOT.resolve(path);
        if (!source.normalize().startsWith(ROOT) || !Files.isRegularFile(source)) {
            return "snippet source " + path + " does not exist";
        }
        List<String> lines;
        try {
            lines = Files.readAllLines(source);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (tag != null) {
            int from = lines.indexOf(indentOf(lines, "// tag::" + tag + "[]"));
            int to = lines.indexOf(indentOf(lines, "// end::" + tag + "[]"));
            if (from < 0 || to < from) {
                return path + " has no region tagged " + tag;
            }
            lines = dedent(lines.subList(from + 1, to));
        }
        List<String> expected = stripTrailing(lines);
        if (expected.equals(block)) {
            return null;
        }
        for (int i = 0; i < Math.max(expected.size(), block.size()); i++) {
            String want = i < expected.size() ? expected.get(i) : "(end)";
            String got = i < block.size() ? block.get(i) : "(end)";
            if (!want.equals(got)) {
                return "differs from " + path + (tag == null ? "" : "#" + tag) + " at its line " + (i + 1)
                        + ": source has [" + want + "], doc has [" + got + "]";
            }
        }
        return "differs from " + path;
    }

    /** The line of {@code lines} that is {@code comment} with any indentation, or {@code comment}. */
    private static String indentOf(List<String> lines, String comment) {
        return lines.stream().filter(l -> l.trim().equals(comment)).findFirst().orElse(comment);
    }

    private static List<String> dedent(List<String> lines) {
        int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
                .min().orElse(0);
        return lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).toList();
    }

    private static List<String> stripTrailing(List<String> lines) {
        return lines.stream().map(String::stripTrailing).toList();
    }

    private static String previousNonBlank(List<String> lines, int i) {
        for (int j = i - 1; j >= 0; j--) {
            if (!lines.get(j).isBlank()) {
                return lines.get(j).trim();
            }
        }
        return "";
    }
}
