package dev.mmlab.api.mm;

import static dev.mmlab.api.VmFlags.VM_IGNORE_MERGE;

import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.Linux;
import dev.mmlab.api.Vma;

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
}
