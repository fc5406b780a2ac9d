package dev.mmlab.bench.oracle;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * An op lowered to the syscall it makes, with Linux's numbers for its flags and page offsets in the window for
 * its addresses: what the kernel driver reads (one line each, {@code NAME ARG... [FILE]}) and what the model side
 * applies. Both sides interpret this one form, so the readable script is parsed once.
 *
 * @param name the syscall ({@code mmap}, {@code mlock2}, ...), {@code touch}, or a script statement the driver
 *     runs ({@code file}, {@code fork})
 * @param args its arguments; addresses as window page offsets, lengths in pages
 * @param file the script name of the file it maps or declares, or null
 */
public record Call(String name, long[] args, String file) {
    /** A call that names no file. */
    public Call(String name, long... args) {
        this(name, args, null);
    }

    /** The line the driver reads: the name, the numbers, then the file's name if any. */
    public String driverLine() {
        String numbers = Arrays.stream(args).mapToObj(Long::toString).collect(Collectors.joining(" "));
        return name + (args.length == 0 ? "" : " " + numbers) + (file == null ? "" : " " + file);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Call c && name.equals(c.name) && Arrays.equals(args, c.args)
                && java.util.Objects.equals(file, c.file);
    }

    @Override
    public int hashCode() {
        return (name.hashCode() * 31 + Arrays.hashCode(args)) * 31 + java.util.Objects.hashCode(file);
    }

    @Override
    public String toString() {
        return driverLine();
    }
}
