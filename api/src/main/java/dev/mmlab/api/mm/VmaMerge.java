package dev.mmlab.api.mm;

import static dev.mmlab.api.VmFlags.VM_IGNORE_MERGE;

import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.Linux;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.VmFlags;

/** The merge rules of {@code mm/vma.c}, shared by the engine (which merges) and the checker (which expects it). */
public final class VmaMerge {
    private VmaMerge() {}

    /**
     * {@code is_mergeable_vma} plus pgoff continuity: may {@code a}, ending where {@code b} starts, become one
     * VMA? Flags equal (soft-dirty aside), same file, no driver, neither special, compatible anon identities,
     * and {@code b}'s pgoff continuing {@code a}'s.
     */
    public static boolean canMerge(Vma a, Vma b) {
        if (a.end() != b.start()) {
            return false;
        }
        if ((a.flags() & ~VM_IGNORE_MERGE) != (b.flags() & ~VM_IGNORE_MERGE)) {
            return false;
        }
        if (a.file() != b.file() || a.ops() != null || b.ops() != null || a.isSpecial()) {
            return false;
        }
        if (!anonCompatible(a.anon(), b.anon())) {
            return false;
        }
        return a.pgoff() + Linux.pages(a.length()) == b.pgoff();
    }

    /**
     * {@code is_mergeable_anon_vma}: a side without an identity merges with anything, unless the other came
     * from a fork (its chain is not singular); otherwise both must be the same identity.
     */
    public static boolean anonCompatible(AnonIdentity x, AnonIdentity y) {
        if (x == null || y == null) {
            AnonIdentity other = x == null ? y : x;
            return other == null || other.parent() == null;
        }
        return x == y;
    }

    /**
     * {@code __anon_vma_prepare} -> {@code find_mergeable_anon_vma}: a VMA's first anonymous page reuses the
     * identity of an adjacent VMA (the next tried first, then the previous) when the two could merge but for
     * their protection ({@code anon_vma_compatible}: same file, pgoff contiguous, flags equal apart from
     * VM_ACCESS_FLAGS and VM_SOFTDIRTY) and that identity was not inherited through fork (its chain is
     * singular); otherwise a new one. Reads neighbours from the lockless tree; the caller's CAS decides.
     * Never blocks; safe under any lock that keeps {@code vma} alive.
     */
    public static AnonIdentity mergeableAnon(VmaTree tree, Vma vma) {
        Vma next = tree.find(vma.end());
        if (next != null && next.start() == vma.end()) {
            AnonIdentity reused = reusableAnon(next, vma, next);
            if (reused != null) {
                return reused;
            }
        }
        Vma prev = tree.findPrev(vma.start());
        if (prev != null && prev.end() == vma.start()) {
            AnonIdentity reused = reusableAnon(prev, prev, vma);
            if (reused != null) {
                return reused;
            }
        }
        return new AnonIdentity();
    }

    /** {@code reusable_anon_vma}: {@code old}'s identity, if {@code a} (ending where {@code b} starts) and {@code b} are compatible. */
    private static AnonIdentity reusableAnon(Vma old, Vma a, Vma b) {
        long ignore = VmFlags.VM_ACCESS_FLAGS | VmFlags.VM_SOFTDIRTY;
        boolean compatible = a.end() == b.start() && a.file() == b.file()
                && ((a.flags() ^ b.flags()) & ~ignore) == 0
                && b.pgoff() == a.pgoff() + Linux.pages(b.start() - a.start());
        AnonIdentity anon = old.anon();
        return compatible && anon != null && anon.parent() == null ? anon : null;
    }
}
