package dev.mmlab.api.sync;

import dev.mmlab.api.Access;
import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FaultResult;
import dev.mmlab.api.HoldingFaultAttempt;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.RetryReason;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.stats.Counters;

/**
 * The classic fault path: take the mmap read lock, find the VMA, fault, release. With {@code faultRetry} a
 * fault that must wait for I/O drops the lock first and starts over ({@code VM_FAULT_RETRY}, 2010); a fault
 * whose driver declares it needs the write lock retries under the write lock. The baseline strategy's fault
 * handler, and the fallback of strategies whose fast path failed.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Takes no lock of its own: the mmap lock ({@link RwsemMmLock}) keeps the VMA
 *       and its page tables stable for one attempt, read for an ordinary fault, write after a retry for any
 *       reason but I/O, such as a driver that needs the write lock ({@code PREFIX.fault_write_lock}); the VMA
 *       is looked up afresh under it on every try. An attempt is used by one thread; its {@code released} flag
 *       says whether it already gave the lock back for I/O, so the lock is released exactly once.</li>
 *   <li><b>Lock order.</b> the mmap lock, taken uninterruptibly, holding nothing else of the mm (a fault never
 *       fails with EINTR); the engine's fault core takes PTLs under it. As the fallback of a faster path, it is
 *       entered only after that path dropped its own lock (a VMA read lock may be taken under the mmap lock,
 *       never the reverse).</li>
 *   <li><b>Follows.</b> {@code VM_FAULT_RETRY} (2010): with {@code faultRetry} a page-cache miss releases the
 *       mmap lock before waiting for the read, and the retry finds the page cached.</li>
 * </ul>
 */
public final class MmapLockFaultPath implements FaultHandler {
    private final RwsemMmLock lock;
    private final VmaTree tree;
    private final Counters counters;
    private final String prefix;
    private final boolean faultRetry;
    private final boolean fallback;

    /**
     * @param prefix counter prefix, e.g. {@code rwsem}: counts {@code PREFIX.fault_retry_io} and
     *        {@code PREFIX.fault_write_lock}
     */
    public MmapLockFaultPath(RwsemMmLock lock, VmaTree tree, Counters counters, String prefix, boolean faultRetry) {
        this(lock, tree, counters, prefix, faultRetry, false);
    }

    private MmapLockFaultPath(RwsemMmLock lock, VmaTree tree, Counters counters, String prefix, boolean faultRetry,
            boolean fallback) {
        this.lock = lock;
        this.tree = tree;
        this.counters = counters;
        this.prefix = prefix;
        this.faultRetry = faultRetry;
        this.fallback = fallback;
    }

    /**
     * This path as the fallback of a faster one: the same lock and switches, its attempts saying
     * {@link dev.mmlab.api.FaultAttempt#isFallback}, so every fault it handles counts as a fallback in the
     * engine's lock use.
     */
    public MmapLockFaultPath asFallback() {
        return new MmapLockFaultPath(lock, tree, counters, prefix, faultRetry, true);
    }

    /** This path as a strategy's own fault handler (the baseline's): its faults are not fallbacks. */
    MmapLockFaultPath asPrimary() {
        return new MmapLockFaultPath(lock, tree, counters, prefix, faultRetry, false);
    }

    /** {@inheritDoc} Caller holds no lock of this mm. Waits for the mmap lock uninterruptibly. */
    @Override
    public FaultOutcome handleFault(FaultCore core, long addr, Access access) {
        long page = addr & Linux.PAGE_MASK;
        LockIntent intent = LockIntent.coarse(OpKind.FAULT, LockIntent.Mode.READ, page, page + Linux.PAGE_SIZE);
        boolean write = false;
        while (true) {
            LockIntent current = write ? intent.withMode(LockIntent.Mode.WRITE) : intent;
            if (write) {
                lock.writeLockUninterruptibly(current);
            } else {
                lock.readLockUninterruptibly(current);
            }
            Attempt attempt = new Attempt(current, write);
            FaultResult result;
            try {
                result = core.fault(attempt, tree.find(page), page, access);
            } finally {
                if (!attempt.released) {
                    lock.unlock(current, write);
                }
            }
            if (!result.isRetry()) {
                return result.outcome();
            }
            if (result.retryReason() == RetryReason.RELEASED_FOR_IO) {
                counters.increment(prefix + ".fault_retry_io");
            } else if (!write) {
                counters.increment(prefix + ".fault_write_lock");
                write = true;
            } else {
                throw new IllegalStateException("fault retried under the mmap write lock at " + Linux.hex(page) + ": " + result);
            }
        }
    }

    /** One try under the mmap lock, which it may release to wait for I/O ({@code faultRetry}). */
    private final class Attempt extends HoldingFaultAttempt {
        private final LockIntent intent;
        boolean released;

        Attempt(LockIntent intent, boolean write) {
            super(write ? CoarseHold.WRITE : CoarseHold.READ);
            this.intent = intent;
        }

        @Override
        public boolean isFallback() {
            return fallback;
        }

        @Override
        public boolean releaseForIo() {
            if (!faultRetry) {
                return false;
            }
            lock.unlock(intent, held() == CoarseHold.WRITE);
            released = true;
            return true;
        }
    }
}
