package dev.mmlab.bench.oracle;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * An op lowered to the syscall it makes, with Linux's numbers for its flags and page offsets in the window for
 * its addresses: what the kernel driver reads (one line each, {@code NAME ARG...}) and what the model side
 * applies. Both sides interpret this one form, so the readable script is parsed once.
 *
 * @param name the syscall ({@code mmap}, {@code mlock2}, ...) or {@code touch}
 * @param args its arguments; addresses as window page offsets, lengths in pages
 */
public record Call(String name, long... args) {
    /** The line the driver reads. */
    public String driverLine() {
        return args.length == 0 ? name
                : name + " " + Arrays.stream(args).mapToObj(Long::toString).collect(Collectors.joining(" "));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Call c && name.equals(c.name) && Arrays.equals(args, c.args);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(args);
    }

    @Override
    public String toString() {
        return driverLine();
    }
}
