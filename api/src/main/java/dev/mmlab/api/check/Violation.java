package dev.mmlab.api.check;

/** One broken invariant: which rule and what was found. */
public record Violation(Rule rule, String detail) {
    /** The invariants the checker knows. */
    public enum Rule {
        /** VMAs sorted, disjoint, page aligned, inside user space. */
        VMA_LAYOUT,
        /** No two adjacent VMAs that should have merged. */
        VMA_CANONICAL,
        /** A present PTE outside every VMA, or with permissions its VMA forbids, or mapping the wrong page. */
        PTE,
        /** A page's refcount differs from its references (PTEs, page cache, pins). */
        REFCOUNT,
        /** A live page that nothing references, or a freed page still mapped. */
        LEAK,
        /** A lock held or waited for at a quiescent point. */
        LOCK
    }

    @Override
    public String toString() {
        return rule + ": " + detail;
    }
}
