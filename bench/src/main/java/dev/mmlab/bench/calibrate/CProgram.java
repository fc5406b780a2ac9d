package dev.mmlab.bench.calibrate;

import dev.mmlab.bench.UsageException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A C program shipped in the jar as a resource of this package: copied into a temporary directory, compiled
 * there with {@code cc -O2 -pthread}, run, and the directory deleted. The compiler is {@code cc} on the PATH,
 * or {@code -Dmmlab.cc=PATH}.
 */
final class CProgram {
    private static final String FIX = "install a C compiler, or use --source model";

    private final String resource;

    CProgram(String resource) {
        this.resource = resource;
    }

    /**
     * Compiles and runs the program with {@code args}; returns what it printed, line by line.
     *
     * @throws UsageException when there is no compiler or it fails (the one-line error says what to do)
     * @throws IllegalStateException when the program fails or runs past {@code timeoutSeconds}
     */
    List<String> run(List<String> args, long timeoutSeconds) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("mmlab-calibrate");
            Path source = dir.resolve(resource);
            try (InputStream in = CProgram.class.getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException(resource + " is missing from the jar");
                }
                Files.copy(in, source);
            }
            Path binary = dir.resolve(resource.replaceFirst("\\.c$", ""));
            compile(source, binary, dir);
            List<String> command = new ArrayList<>(List.of(binary.toString()));
            command.addAll(args);
            Result r = exec(command, dir, timeoutSeconds);
            if (r.status() != 0) {
                throw new IllegalStateException(resource + " failed (exit " + r.status() + "): " + firstLine(r.err()));
            }
            return r.out().lines().toList();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + resource + ": " + e.getMessage(), e);
        } finally {
            deleteQuietly(dir);
        }
    }

    private static void compile(Path source, Path binary, Path dir) {
        String cc = System.getProperty("mmlab.cc", "cc");
        Result r;
        try {
            r = exec(List.of(cc, "-O2", "-pthread", "-o", binary.toString(), source.toString()), dir, 120);
        } catch (IOException e) {
            throw new UsageException("cannot run the C compiler '" + cc + "' (" + e.getMessage() + "); " + FIX, e);
        }
        if (r.status() != 0) {
            throw new UsageException(cc + " -O2 -pthread failed on " + source.getFileName() + ": "
                    + firstError(r.err()) + "; " + FIX);
        }
    }

    private record Result(int status, String out, String err) {}

    private static Result exec(List<String> command, Path dir, long timeoutSeconds) throws IOException {
        Path err = dir.resolve("stderr-" + System.nanoTime());
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(command.get(0) + " ran past " + timeoutSeconds + " s");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + command.get(0) + " ran", e);
        }
        return new Result(p.exitValue(), out, Files.readString(err));
    }

    private static String firstLine(String s) {
        return s.strip().lines().findFirst().orElse("no message");
    }

    /** The compiler's first line that says "error", else its first line. */
    private static String firstError(String s) {
        return s.lines().filter(l -> l.contains("error")).findFirst().orElse(firstLine(s)).strip();
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // A temporary directory left behind is not worth failing a measurement that succeeded.
        }
    }
}
