package dev.mmlab.api;

/**
 * How a fault ended. These are values, not exceptions: all of them are ordinary on the fault path. (An attempt
 * that must be repeated is not an outcome: the {@link FaultCore} answers it with {@link FaultResult#retry},
 * which never leaves a {@link FaultHandler}.)
 */
public enum FaultOutcome {
    /** A PTE now maps the address with the access allowed. */
    MAPPED,
    /** No VMA covers the address (SIGSEGV, SEGV_MAPERR). */
    SEGV,
    /** A VMA covers it but forbids the access (SIGSEGV, SEGV_ACCERR). */
    ACCESS,
    /** The backing store failed: I/O error or a page beyond the end of the file (SIGBUS). */
    BUS,
    /** No memory for the page. */
    OOM
}
