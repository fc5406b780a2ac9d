package dev.mmlab.api.sync;

import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.Vma;

/**
 * The coarse mm lock ({@code mmap_lock}) as an {@link MmLock}: every intent takes the whole address space,
 * read or write as the intent says. The baseline strategy uses it as is; strategies that keep the mmap lock
 * for syscalls (speculative faults, per-VMA locks) add their bookkeeping through a {@link Hooks}.
 *
 * <p>Switches as in Linux: {@code munmapDowngrade} downgrades to read for the zap (4.20),
 * {@code populateDropsLock} populates after releasing the write lock.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> One {@link RwSemaphore} for the whole address space: a read guard keeps every
 *       VMA and PTE stable against syscalls, a write guard excludes everyone who takes it. A guard's own fields
 *       are plain: it belongs to the thread that took it. {@link Hooks} run only in the holder of the write
 *       lock: {@code writeLocked} right after it is taken, {@code startWrite} and {@code prepareNew} while it is
 *       held (a read or released guard throws instead), {@code writeUnlocking} right before it is released or
 *       downgraded. So a strategy's per-cycle state behind the hooks needs no lock of its own: the semaphore's
 *       release and acquire order one holder's accesses before the next holder's.</li>
 *   <li><b>Lock order.</b> the mmap lock &rarr; whatever the hooks take ({@code pervma}'s
 *       {@code vma_start_write} waits for a VMA's readers under it) &rarr; a PTL. The fault path takes it
 *       uninterruptibly ({@link #readLockUninterruptibly}, {@link #writeLockUninterruptibly}) and holds no
 *       other lock of the mm when it does.</li>
 *   <li><b>Follows.</b> {@code mmap_write_downgrade} and {@code mmap_write_unlock} both end the write cycle
 *       ({@code vma_end_write_all}): {@link MmLockGuard#downgrade} calls {@code writeUnlocking} before the
 *       semaphore turns the writer into a reader.</li>
 * </ul>
 */
public class RwsemMmLock implements MmLock {
    /** What a strategy built on the mmap lock adds to its write side. Called by the holder of the lock. */
    public interface Hooks {
        /** The write lock was just taken. */
        default void writeLocked(LockIntent intent) {}

        /** {@code vma_start_write}: the holder of the write lock is about to change {@code vma}. May block. */
        default void startWrite(Vma vma) {}

        /** {@code vma} is new and about to be published under the write lock. */
        default void prepareNew(Vma vma) {}

        /** The write lock is about to be released or downgraded ({@code mmap_write_unlock}). */
        default void writeUnlocking() {}
    }

    private static final Hooks NO_HOOKS = new Hooks() {};

    private final RwSemaphore sem;
    private final boolean munmapDowngrade;
    private final boolean populateDropsLock;
    private final Hooks hooks;

    public RwsemMmLock(RwSemaphore sem, boolean munmapDowngrade, boolean populateDropsLock, Hooks hooks) {
        this.sem = sem;
        this.munmapDowngrade = munmapDowngrade;
        this.populateDropsLock = populateDropsLock;
        this.hooks = hooks == null ? NO_HOOKS : hooks;
    }

    @Override
    public MmLockGuard lock(LockIntent intent) {
        LockIntent coarse = intent.isCoarse() ? intent : intent.asCoarse();
        try {
            if (coarse.isWrite()) {
                sem.acquireWrite(coarse);
                hooks.writeLocked(coarse);
            } else {
                sem.acquireRead(coarse);
            }
        } catch (InterruptedException e) {
            throw new ErrnoException(Errno.EINTR, "interrupted while waiting for the mmap lock (" + intent.op().label() + ")");
        }
        return new Guard(coarse);
    }

    /**
     * Take the read lock for a fault, without interruption (a fault cannot fail with EINTR; the interrupt flag
     * is kept for the caller).
     */
    public void readLockUninterruptibly(LockIntent intent) {
        acquireUninterruptibly(intent, false);
    }

    /** Take the write lock for a fault that must expand or retry under it; not interruptible. */
    public void writeLockUninterruptibly(LockIntent intent) {
        acquireUninterruptibly(intent, true);
        hooks.writeLocked(intent);
    }

    private void acquireUninterruptibly(LockIntent intent, boolean write) {
        boolean interrupted = false;
        while (true) {
            try {
                if (write) {
                    sem.acquireWrite(intent);
                } else {
                    sem.acquireRead(intent);
                }
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Release a lock taken by one of the uninterruptible methods. */
    public void unlock(LockIntent intent, boolean write) {
        if (write) {
            hooks.writeUnlocking();
            sem.releaseWrite(intent);
        } else {
            sem.releaseRead(intent);
        }
    }

    @Override
    public boolean isIdle() {
        return sem.isIdle();
    }

    @Override
    public String describe() {
        return sem.describe();
    }

    private final class Guard implements MmLockGuard {
        private final LockIntent intent;
        private boolean write;
        private boolean held = true;

        Guard(LockIntent intent) {
            this.intent = intent;
            this.write = intent.isWrite();
        }

        @Override
        public LockIntent intent() {
            return intent;
        }

        @Override
        public boolean covers(long start, long end, boolean forWrite) {
            return held && (write || !forWrite);
        }

        @Override
        public CoarseHold coarseHold() {
            return !held ? CoarseHold.NONE : write ? CoarseHold.WRITE : CoarseHold.READ;
        }

        @Override
        public void startWrite(Vma vma) {
            requireWrite();
            hooks.startWrite(vma);
        }

        @Override
        public void prepareNew(Vma vma) {
            requireWrite();
            hooks.prepareNew(vma);
        }

        private void requireWrite() {
            if (!held || !write) {
                throw new IllegalStateException("VMA change without the mmap write lock: " + intent);
            }
        }

        @Override
        public void downgrade() {
            if (munmapDowngrade && held && write) {
                hooks.writeUnlocking();
                sem.downgrade(intent);
                write = false;
            }
        }

        @Override
        public boolean dropsForPopulate() {
            return populateDropsLock;
        }

        @Override
        public void close() {
            if (held) {
                held = false;
                if (write) {
                    hooks.writeUnlocking();
                    sem.releaseWrite(intent);
                } else {
                    sem.releaseRead(intent);
                }
            }
        }
    }
}
