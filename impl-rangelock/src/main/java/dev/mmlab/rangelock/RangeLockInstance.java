package dev.mmlab.rangelock;

import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.stats.Counters;
import dev.mmlab.api.stats.LockWaitRecorder;
import dev.mmlab.api.sync.Mutex;
import dev.mmlab.rangelock.lock.RangeLock;
import dev.mmlab.rangelock.lock.RangeLock.Handle;
import dev.mmlab.rangelock.lock.RangeLock.Ticket;
import java.util.ArrayList;
import java.util.List;

/**
 * The rangelock strategy's state for one address space and the acquisition protocol its parts share.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b>
 *       <ul>
 *         <li>The range lock (tree or list) protects the mapping of every address: whoever changes the mapping
 *             of {@code [a, b)} (VMA attributes, page-table entries removed or moved) holds a write range
 *             covering {@code [a, b)}; a fault holds a read range covering its page. The coarse lock is the full
 *             range {@code [0, TASK_SIZE + PAGE)} and interacts with fine ranges exactly as any other range
 *             does.</li>
 *         <li>The VMA lock (a short mutex, Lespinasse's "VMA lock") protects the VMA tree's updates, a fault's
 *             lookup-and-queue, every range-lock enqueue, and the installation of a VMA's first anon identity.
 *             It is never held while waiting for a range, across I/O, allocation or per-page work.</li>
 *       </ul></li>
 *   <li><b>Lock order.</b> range (held, granted) &rarr; VMA lock. A thread that holds the VMA lock never waits
 *       for a range (it only enqueues), so a VMA-lock holder never waits on a range holder.</li>
 *   <li><b>What a reader may see mid-update.</b> The VMA objects are not protected: a VMA may be split or
 *       merged away by a writer whose range does not overlap a fault's range, while the fault runs. What
 *       cannot change under a read range is the mapping of the addresses inside it: flags, file, ops and pgoff
 *       there. So a fault re-finds its VMA under its range and works with the attributes it sees, and the VMA
 *       object it hands the engine may become detached meanwhile.</li>
 *   <li><b>The anon identity.</b> One VMA field escapes that rule: the anon identity, installed once per VMA by
 *       the first anonymous fault ({@code anon_vma_prepare}) and copied into the pieces when a writer plans a
 *       split. A fault in one part of a VMA can install it after a writer elsewhere in the same VMA copied the
 *       (null) identity into its plan. Two steps close that race, both under the VMA lock: a fault installs the
 *       identity only on a VMA that is still in the tree; and a replace copies the identity of each removed VMA
 *       into the new VMAs that continue its mapping outside the writer's locked range. Since the engine makes a
 *       writer cover every VMA object it replaces (split ones included), a fault can no longer overlap such a
 *       writer, so this propagation is now only a defence in depth. See {@link RangeVmaTree#replace} and
 *       {@link RangeFaultHandler}.</li>
 *   <li><b>Waits.</b> A request that is not granted at enqueue is recorded with the {@link LockIntent}s of the
 *       requests it waits for (they are the range lock's owners), so that false conflicts are measured. Waits
 *       on the VMA lock are a spinlock's, microseconds long, and are only counted
 *       ({@code rangelock.vma_lock_contended}).</li>
 *   <li><b>Follows.</b> Michel Lespinasse, "Replacing mmap_sem with finer grained locks" (LPC 2019); see
 *       {@link RangeLockStrategy}.</li>
 * </ul>
 */
final class RangeLockInstance {
    static final String LOCK_NAME = "range_lock";

    private final RangeLock rangeLock;
    private final Mutex vmaLock = new Mutex();
    private final long granule;
    private final MmContext context;
    private final Counters counters;
    private final LockWaitRecorder waits;
    private final RangeVmaTree tree;
    private final RangeMmLock mmLock;
    private final RangeFaultHandler faultHandler;

    RangeLockInstance(RangeLock rangeLock, long granule, MmContext context) {
        this.rangeLock = rangeLock;
        this.granule = granule;
        this.context = context;
        this.counters = context.counters();
        this.waits = context.waits();
        this.tree = new RangeVmaTree(new SnapshotVmaTree(), this);
        this.mmLock = new RangeMmLock(this);
        this.faultHandler = new RangeFaultHandler(this);
    }

    /** The parts the engine uses: the syscall lock, the fault handler and the tree, all over this state. */
    StrategyInstance parts() {
        return StrategyInstance.of(mmLock, faultHandler, tree);
    }

    RangeLock rangeLock() {
        return rangeLock;
    }

    long granule() {
        return granule;
    }

    Counters counters() {
        return counters;
    }

    boolean checking() {
        return context.checking();
    }

    RangeVmaTree tree() {
        return tree;
    }

    /** Take the VMA lock. Caller holds it for a bounded, short step and never waits for a range under it. */
    void vmaLock() {
        if (!vmaLock.tryLock()) {
            counters.increment("rangelock.vma_lock_contended");
            vmaLock.lock();
        }
    }

    void vmaUnlock() {
        vmaLock.unlock();
    }

    boolean vmaLockHeld() {
        return vmaLock.isHeldByCurrentThread();
    }

    /** Queue {@code intent}'s range. Caller holds the VMA lock. Never waits for a range. */
    Ticket enqueue(LockIntent intent) {
        return rangeLock.enqueue(intent.start(), intent.end(), intent.isWrite(), intent);
    }

    /**
     * Queue {@code intent}'s range under the VMA lock and wait for it, recording the wait. Caller holds no
     * range of this mm. May block.
     *
     * @throws InterruptedException if interruptible and interrupted while waiting; then nothing is held
     */
    Handle acquire(LockIntent intent, boolean interruptible) throws InterruptedException {
        Ticket ticket;
        vmaLock();
        try {
            ticket = enqueue(intent);
        } finally {
            vmaUnlock();
        }
        return await(ticket, intent, interruptible);
    }

    /**
     * Wait for {@code ticket}, recording the wait with its blockers' intents when it was not granted at
     * enqueue. Caller holds neither the VMA lock nor any range of this mm. May block.
     */
    Handle await(Ticket ticket, LockIntent intent, boolean interruptible) throws InterruptedException {
        if (ticket.isGranted()) {
            return ticket.awaitUninterruptibly();
        }
        counters.increment("rangelock.wait");
        LockWaitRecorder.Pending pending = waits.begin(intent, intents(ticket.blockers()), LOCK_NAME);
        try {
            return interruptible ? ticket.await() : ticket.awaitUninterruptibly();
        } finally {
            pending.end();
        }
    }

    private static List<LockIntent> intents(List<Object> owners) {
        List<LockIntent> out = new ArrayList<>(owners.size());
        for (Object o : owners) {
            if (o instanceof LockIntent) {
                out.add((LockIntent) o);
            }
        }
        return out;
    }

    /** Whether nothing holds or waits for a range and nobody holds the VMA lock. */
    boolean isIdle() {
        return rangeLock.isIdle() && !vmaLock.isLocked();
    }

    /** The current holders as intents. */
    String describe() {
        List<String> holders = new ArrayList<>();
        for (Handle h : rangeLock.holders()) {
            holders.add(String.valueOf(h.owner() != null ? h.owner() : h));
        }
        return LOCK_NAME + (vmaLock.isLocked() ? " (VMA lock held)" : "") + " holders " + holders + " " + rangeLock;
    }
}
