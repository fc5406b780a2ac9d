package dev.mmlab.api;

/**
 * A CPU access ({@code Mm.read}/{@code Mm.write}) that the fault path could not satisfy: the thread would get
 * SIGSEGV ({@link FaultOutcome#SEGV}, {@link FaultOutcome#ACCESS}) or SIGBUS ({@link FaultOutcome#BUS}), or
 * the fault ran out of memory ({@link FaultOutcome#OOM}).
 */
public final class MemoryAccessException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final FaultOutcome outcome;
    private final long address;

    public MemoryAccessException(FaultOutcome outcome, long address, Access access) {
        super(access + " at " + Linux.hex(address) + ": " + outcome + describe(outcome));
        this.outcome = outcome;
        this.address = address;
    }

    private static String describe(FaultOutcome outcome) {
        switch (outcome) {
            case SEGV:
                return " (no mapping there: SIGSEGV)";
            case ACCESS:
                return " (the mapping forbids this access: SIGSEGV)";
            case BUS:
                return " (I/O error or beyond end of file: SIGBUS)";
            case OOM:
                return " (out of memory)";
            default:
                return "";
        }
    }

    public FaultOutcome outcome() {
        return outcome;
    }

    public long address() {
        return address;
    }
}
