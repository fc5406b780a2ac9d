package dev.mmlab.bench.plugin;

import dev.mmlab.bench.UsageException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Where plugin jars come from, in order: each {@code --plugins PATH}, each entry of {@value #ENV} (a
 * path-separator list), then every jar in {@code ~/.mmlab/plugins/}. A PATH is a jar or a directory whose
 * {@code *.jar} files are all taken. A PATH the user named that is missing or neither is bad usage; the default
 * directory may be absent.
 */
public final class PluginPaths {
    /** The environment variable listing plugin jars and directories. */
    public static final String ENV = "MMLAB_PLUGINS";

    private PluginPaths() {}

    /** The default plugin directory, {@code ~/.mmlab/plugins}. */
    public static Path defaultDirectory() {
        return Path.of(System.getProperty("user.home"), ".mmlab", "plugins");
    }

    /**
     * The plugin jars named by {@code options} ({@code --plugins}), {@code env} (the value of {@value #ENV}, or
     * null) and {@code defaultDirectory}, each once, in that order.
     *
     * @throws UsageException naming the option or variable whose path is missing or neither a jar nor a directory
     */
    public static List<Path> find(List<Path> options, String env, Path defaultDirectory) {
        Set<Path> jars = new LinkedHashSet<>();
        for (Path p : options) {
            jars.addAll(jarsAt(p, "--plugins"));
        }
        if (env != null) {
            for (String entry : env.split(File.pathSeparator)) {
                if (!entry.isBlank()) {
                    jars.addAll(jarsAt(Path.of(entry.strip()), ENV + " entry"));
                }
            }
        }
        if (Files.isDirectory(defaultDirectory)) {
            jars.addAll(jarsIn(defaultDirectory, "the default plugin directory"));
        }
        return new ArrayList<>(jars);
    }

    private static List<Path> jarsAt(Path path, String source) {
        if (Files.isDirectory(path)) {
            return jarsIn(path, source);
        }
        if (!Files.exists(path)) {
            throw new UsageException(source + " " + path + ": no such file or directory; give a jar or a directory of jars");
        }
        if (!Files.isRegularFile(path) || !path.getFileName().toString().endsWith(".jar")) {
            throw new UsageException(source + " " + path + ": neither a jar nor a directory of jars");
        }
        return List.of(path.toAbsolutePath().normalize());
    }

    private static List<Path> jarsIn(Path directory, String source) {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jar") && Files.isRegularFile(f))
                    .map(f -> f.toAbsolutePath().normalize()).sorted().toList();
        } catch (IOException e) {
            throw new UsageException(source + " " + directory + ": cannot be listed: " + e.getMessage(), e);
        }
    }
}
