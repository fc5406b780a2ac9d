package dev.mmlab.api;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The {@code anon_vma} analogue: assigned to a private VMA when its first anonymous page is created, copied
 * when the VMA is split, inherited through merges. Two anonymous VMAs may merge only if at most one has an
 * identity or both have the same one ({@code is_mergeable_anon_vma}).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> An identity is immutable once built, so any thread may read it. The one
 *       shared word is the static id counter, an {@link AtomicLong}: racing constructors get distinct ids. Who
 *       installs an identity on a VMA, and when, is {@link Vma#prepareAnon}'s rule (a CAS, first one wins).</li>
 *   <li><b>Lock order.</b> none: takes no lock, and may be created under any lock.</li>
 * </ul>
 */
public final class AnonIdentity {
    private static final AtomicLong NEXT = new AtomicLong(1);

    private final long id = NEXT.getAndIncrement();
    private final AnonIdentity parent;

    public AnonIdentity() {
        this(null);
    }

    /** An identity forked from {@code parent} (the child's {@code anon_vma} after {@code anon_vma_fork}). */
    public AnonIdentity(AnonIdentity parent) {
        this.parent = parent;
    }

    public AnonIdentity parent() {
        return parent;
    }

    @Override
    public String toString() {
        return "anon#" + id;
    }
}
