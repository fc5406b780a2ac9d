package dev.mmlab.bench.plugin;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

/**
 * Writes plugin jars for tests: a services file and nothing else, naming classes of the test class path that no
 * services file there declares (so only the plugin makes them visible).
 */
public final class PluginJars {
    private PluginJars() {}

    /** A jar at {@code jar} whose {@code META-INF/services/SERVICE} names {@code providers}. */
    public static Path write(Path jar, String service, String... providers) throws IOException {
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file)) {
            out.putNextEntry(new JarEntry("META-INF/services/" + service));
            out.write((String.join("\n", providers) + "\n").getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return jar;
    }
}
