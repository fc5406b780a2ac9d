package dev.mmlab.api.mem;

import java.util.Objects;

/**
 * A file descriptor's view of a {@link BackingFile}: the file and the access mode it was opened with, which
 * decides the mappings it allows ({@code MAP_SHARED} with {@code PROT_WRITE} needs a writable descriptor).
 */
public record OpenFile(BackingFile file, boolean readable, boolean writable) {
    public OpenFile {
        Objects.requireNonNull(file);
    }

    public static OpenFile readOnly(BackingFile file) {
        return new OpenFile(file, true, false);
    }

    public static OpenFile readWrite(BackingFile file) {
        return new OpenFile(file, true, true);
    }
}
