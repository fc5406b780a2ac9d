package dev.mmlab.api;

/**
 * How a fault ended. These are values, not exceptions: all of them are ordinary on the fault path.
 * {@link #RETRY} never leaves a {@link FaultHandler}: it tells a strategy's handler that its attempt gave
 * up a step (it lacked a lock, dropped it for I/O, or failed validation) and must run again.
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
    OOM,
    /** The attempt must be repeated; see the class comment. */
    RETRY
}
