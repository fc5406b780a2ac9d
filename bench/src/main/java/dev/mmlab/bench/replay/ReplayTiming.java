package dev.mmlab.bench.replay;

import java.util.Locale;

/** How a replay schedules the traced events. */
public enum ReplayTiming {
    /**
     * Every event of the process on one thread, in file order, or in the order the kernel granted the syscalls the
     * mmap_lock when the trace has those events ({@link ReplayScript}): deterministic, the mode fidelity is judged
     * in.
     */
    SERIAL,
    /**
     * One Java thread per traced thread (under the virtual clock, a simulated thread on a core of its own), each
     * keeping its own order, as fast as they go.
     */
    ASAP,
    /**
     * As {@link #ASAP}, and each thread also waits out the traced gaps between its events, scaled by the speed
     * (under the virtual clock, as virtual sleeps).
     */
    ORIGINAL;

    /** The lower-case name used on the command line. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The timing named {@code text} ({@code serial}, {@code asap}, {@code original}; case ignored).
     *
     * @throws IllegalArgumentException naming the valid values
     */
    public static ReplayTiming parse(String text) {
        for (ReplayTiming t : values()) {
            if (t.label().equalsIgnoreCase(text.strip())) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown timing '" + text + "'; use serial, asap or original");
    }
}
