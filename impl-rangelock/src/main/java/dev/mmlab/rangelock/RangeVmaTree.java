package dev.mmlab.rangelock;

import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import java.util.List;

/**
 * The VMA tree of the range-locked mm: a lockless-readable snapshot tree whose updates run under the VMA
 * lock, so that a fault's lookup-and-queue and a fault's anon-identity installation are atomic with respect
 * to them. Lookups take no lock.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Readers go straight to the delegate's published snapshot, with no lock. A
 *       replace runs under the caller's write range (which covers the change) and, for the snapshot update
 *       itself, under the VMA lock, so it is atomic against a fault's lookup-and-queue and against a fault
 *       installing a first anon identity; under that lock it also propagates identities installed after the
 *       caller planned (see {@link RangeLockInstance}).</li>
 *   <li><b>Lock order.</b> write range (held) &rarr; VMA lock &rarr; the delegate's writer monitor.</li>
 * </ul>
 */
final class RangeVmaTree implements VmaTree {
    private final VmaTree delegate;
    private final RangeLockInstance space;

    RangeVmaTree(VmaTree delegate, RangeLockInstance space) {
        this.delegate = delegate;
        this.space = space;
    }

    @Override
    public Vma find(long addr) {
        return delegate.find(addr);
    }

    @Override
    public Vma findNext(long addr) {
        return delegate.findNext(addr);
    }

    @Override
    public Vma findPrev(long addr) {
        return delegate.findPrev(addr);
    }

    @Override
    public List<Vma> overlapping(long start, long end) {
        return delegate.overlapping(start, end);
    }

    @Override
    public List<Vma> all() {
        return delegate.all();
    }

    @Override
    public int size() {
        return delegate.size();
    }

    /**
     * {@inheritDoc} Caller holds {@code guard}, a write range covering the change. Takes the VMA lock (briefly,
     * for the snapshot update). Before publishing, gives each new VMA that continues a removed VMA's mapping
     * outside the caller's range the removed VMA's anon identity, if a fault installed one after the caller
     * planned (see {@link RangeLockInstance}).
     */
    @Override
    public void replace(MmLockGuard guard, List<Vma> removed, List<Vma> added) {
        space.vmaLock();
        try {
            if (!guard.intent().isCoarse()) {
                propagateAnon(removed, added, guard.intent().start(), guard.intent().end());
            }
            delegate.replace(guard, removed, added);
        } finally {
            space.vmaUnlock();
        }
    }

    /**
     * Copy anon identities into new VMAs that continue an old VMA outside {@code [lockStart, lockEnd)}.
     * Caller holds the VMA lock, so no fault installs an identity on a removed VMA meanwhile.
     */
    private void propagateAnon(List<Vma> removed, List<Vma> added, long lockStart, long lockEnd) {
        for (Vma a : added) {
            if (a.anon() != null) {
                continue;
            }
            for (Vma r : removed) {
                AnonIdentity identity = r.anon();
                if (identity == null || !r.overlaps(a.start(), a.end())) {
                    continue;
                }
                long s = Math.max(a.start(), r.start());
                long e = Math.min(a.end(), r.end());
                boolean outside = s < lockStart || e > lockEnd;
                long at = s < lockStart ? s : Math.max(s, lockEnd);
                if (outside && RangeMmLock.sameMappingAt(r, a, at)) {
                    a.prepareAnon(identity);
                    space.counters().increment("rangelock.anon_propagated");
                    break;
                }
            }
        }
    }
}
