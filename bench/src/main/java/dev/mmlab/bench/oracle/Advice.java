package dev.mmlab.bench.oracle;

import static dev.mmlab.api.Linux.*;

import java.util.Locale;

/**
 * The {@code madvise} advices a script may give, each with Linux's number; a script names one in lower case
 * ({@code dontneed}, {@code populate_write}). {@code MADV_MERGEABLE} is left out: it needs KSM in the kernel.
 */
public enum Advice {
    NORMAL(MADV_NORMAL), RANDOM(MADV_RANDOM), SEQUENTIAL(MADV_SEQUENTIAL), WILLNEED(MADV_WILLNEED),
    DONTNEED(MADV_DONTNEED), FREE(MADV_FREE), REMOVE(MADV_REMOVE), DONTFORK(MADV_DONTFORK), DOFORK(MADV_DOFORK),
    HUGEPAGE(MADV_HUGEPAGE), NOHUGEPAGE(MADV_NOHUGEPAGE), DONTDUMP(MADV_DONTDUMP), DODUMP(MADV_DODUMP),
    WIPEONFORK(MADV_WIPEONFORK), KEEPONFORK(MADV_KEEPONFORK), COLD(MADV_COLD), PAGEOUT(MADV_PAGEOUT),
    POPULATE_READ(MADV_POPULATE_READ), POPULATE_WRITE(MADV_POPULATE_WRITE);

    private final int value;

    Advice(int value) {
        this.value = value;
    }

    /** Linux's {@code MADV_} number. */
    public int value() {
        return value;
    }

    /** The word a script uses. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The advice a script's word names, or null. */
    public static Advice ofWord(String word) {
        for (Advice a : values()) {
            if (a.word().equals(word)) {
                return a;
            }
        }
        return null;
    }
}
