package dev.mmlab.bench;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks that what a command will write can be written, before it runs: a run of minutes whose report then
 * fails to open is a run lost. Each check throws a {@link UsageException} naming the option and the reason.
 */
public final class OutputPaths {
    private OutputPaths() {}

    /**
     * Checks that {@code file}, given with {@code option}, can be created or overwritten: it is not a directory,
     * and its directory exists and is writable. Does nothing for a null {@code file} (an option not given).
     */
    public static void checkFile(String option, Path file) {
        if (file == null) {
            return;
        }
        if (Files.isDirectory(file)) {
            throw new UsageException(option + " " + file + " is a directory; give a file name");
        }
        if (Files.exists(file)) {
            if (!Files.isWritable(file)) {
                throw new UsageException(option + " " + file + ": permission denied; give a writable path");
            }
            return;
        }
        Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new UsageException(option + " " + file + ": no directory " + dir + "; create it or give another path");
        }
        if (!Files.isWritable(dir)) {
            throw new UsageException(option + " " + file + ": directory " + dir + " is not writable; give another path");
        }
    }

    /**
     * Checks that directory {@code dir}, given with {@code option}, is a writable directory or can be created (its
     * nearest existing ancestor is a writable directory). Does nothing for a null {@code dir}.
     */
    public static void checkDirectory(String option, Path dir) {
        if (dir == null) {
            return;
        }
        Path existing = dir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !Files.isDirectory(existing)) {
            throw new UsageException(option + " " + dir + ": " + existing + " is not a directory; give another path");
        }
        if (!Files.isWritable(existing)) {
            throw new UsageException(option + " " + dir + ": directory " + existing + " is not writable; give another path");
        }
    }
}
