package dev.mmlab.speculative;

/**
 * Why a speculative fault gave up and took the classic path under the mmap read lock. Named after the
 * kernel's speculative-page-fault trace events (Dufour, v11: {@code spf_vma_changed}, ...); each is counted
 * as {@code speculative.abort.NAME}.
 */
enum AbortReason {
    /** The sequence (per-VMA or per-mm) changed, or the VMA was detached, between lookup and commit. */
    VMA_CHANGED("vma_changed"),
    /** The fault needed the VMA's first anon identity ({@code anon_vma_prepare}), which needs the lock. */
    VMA_NOANON("vma_noanon"),
    /** The VMA's driver is not declared safe for a fault without the mmap lock. */
    VMA_NOTSUP("vma_notsup"),
    /** The VMA forbids the access: the locked path reports it (SEGV_ACCERR) from a stable VMA. */
    VMA_ACCESS("vma_access"),
    /** The PTE table was freed under the fault ({@code pmd_changed}). */
    PMD_CHANGED("pmd_changed"),
    /** A writer was active when the fault started: the sequence was odd. */
    SEQ_ODD("seq_odd"),
    /** No VMA covered the address in the snapshot: the locked path decides (SEGV or stack expansion). */
    NO_VMA("no_vma");

    private final String counter;

    AbortReason(String name) {
        this.counter = SpeculativeFaultHandler.PREFIX + ".abort." + name;
    }

    /** The counter this reason is counted under. */
    String counter() {
        return counter;
    }
}
