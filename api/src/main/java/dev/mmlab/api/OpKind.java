package dev.mmlab.api;

import java.util.Locale;

/** What an operation that takes an mm lock is, for counters and for "who blocked whom". */
public enum OpKind {
    FAULT, MMAP, MUNMAP, MPROTECT, MREMAP, MADVISE, BRK, MLOCK, MUNLOCK, POPULATE, GUP, PROC_MAPS, SMAPS,
    CMDLINE, FORK, EXIT, ACCESS,
    /** A mapping exec makes inside execve (binfmt_elf's {@code elf_map}, {@code setup_arg_pages}, the vdso). */
    EXEC;

    /** Lower-case name as used in counters and reports ({@code proc_maps}). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
