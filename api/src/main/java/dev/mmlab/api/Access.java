package dev.mmlab.api;

/** What a faulting access wanted, as the error code of an x86 page fault says (bit 1 write, bit 4 fetch). */
public enum Access {
    READ, WRITE, EXEC;

    /** From an x86 page-fault error code. */
    public static Access fromErrorCode(long errorCode) {
        if ((errorCode & 0x2) != 0) {
            return WRITE;
        }
        return (errorCode & 0x10) != 0 ? EXEC : READ;
    }
}
