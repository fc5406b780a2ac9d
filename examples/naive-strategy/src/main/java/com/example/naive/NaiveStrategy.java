package com.example.naive;

import dev.mmlab.api.Access;
import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FaultResult;
import dev.mmlab.api.HoldingFaultAttempt;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.stats.LockWaitRecorder;
import dev.mmlab.api.sync.Mutex;
import java.util.List;

/**
 * The simplest correct strategy: one mutex for the whole address space. Every syscall and every fault takes
 * it, so everything is serialised, readers included (worse than rwsem, which at least lets faults share).
 * It exists to show the SPI end to end; see docs/extending.md, "Write a strategy".
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The mutex protects the VMA tree and page tables' structure; the holder may
 *       do anything, so every guard {@link MmLockGuard#covers covers} every range for writing and reports
 *       {@link CoarseHold#WRITE}: drivers' coarse callbacks are always satisfied and faults never retry. The
 *       holder's intent is a volatile field, written by the holder and read by waiters and dumps. A guard's
 *       {@code held} flag is plain: the guard belongs to the thread that locked it.</li>
 *   <li><b>Lock order.</b> the mutex &rarr; the engine's locks (a PTL, the VMA tree's writer monitor). Syscalls
 *       and faults take the mutex holding nothing of this mm, as the SPI requires of their callers.</li>
 *   <li><b>Waits.</b> Waits are recorded with the holder as the blocker, so the lab can count this strategy's
 *       false conflicts.</li>
 * </ul>
 */
// tag::strategy[]
public final class NaiveStrategy implements LockingStrategy {
    public static final String NAME = "naive-mutex";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "example: one global mutex for syscalls and faults alike";
    }

    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        GlobalMutex mutex = new GlobalMutex(context.waits());
        VmaTree tree = new SnapshotVmaTree();
        FaultHandler faults = (core, addr, access) -> fault(mutex, core, addr, access);
        return StrategyInstance.of(mutex, faults, tree);
    }

    /** A fault: take the mutex (uninterruptibly, as a page fault cannot be interrupted), fault, release. */
    private static FaultOutcome fault(GlobalMutex mutex, FaultCore core, long addr, Access access) {
        long page = addr & Linux.PAGE_MASK;
        LockIntent intent = LockIntent.coarse(OpKind.FAULT, LockIntent.Mode.WRITE, page, page + Linux.PAGE_SIZE);
        mutex.acquire(intent, false);
        try {
            // The mutex holder may do every step: the base attempt that holds the whole space for writing.
            FaultResult result = core.fault(new HoldingFaultAttempt(CoarseHold.WRITE), core.tree().find(page), page,
                    access);
            if (result.isRetry()) {
                throw new IllegalStateException("a fault holding the whole address space was asked to retry: " + result);
            }
            return result.outcome();
        } finally {
            mutex.release();
        }
    }
    // end::strategy[]

    /**
     * The one lock: a {@link Mutex} (it waits through mmlab's scheduling seam, so the strategy also runs under
     * {@code --clock virtual}) plus the intent of its holder, for wait records and dumps.
     */
    static final class GlobalMutex implements MmLock {
        private final Mutex lock = new Mutex();
        private final LockWaitRecorder waits;
        private volatile LockIntent holder;

        GlobalMutex(LockWaitRecorder waits) {
            this.waits = waits;
        }

        /**
         * Caller holds nothing of this mm. Blocks until the mutex is free; when {@code interruptible}, an
         * interrupt ends the wait with EINTR and nothing held.
         */
        void acquire(LockIntent intent, boolean interruptible) {
            if (!lock.tryLock()) {
                LockIntent blocker = holder;
                LockWaitRecorder.Pending wait = waits.begin(intent, blocker == null ? List.of() : List.of(blocker),
                        "naive_mutex");
                try {
                    if (interruptible) {
                        lock.lockInterruptibly();
                    } else {
                        lock.lock();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ErrnoException(Errno.EINTR, "interrupted waiting for the mutex: " + intent);
                } finally {
                    wait.end();
                }
            }
            holder = intent;
        }

        /** Caller holds the mutex. */
        void release() {
            holder = null;
            lock.unlock();
        }

        @Override
        public MmLockGuard lock(LockIntent intent) {
            acquire(intent, true);
            return new MmLockGuard() {
                private boolean held = true;

                @Override
                public LockIntent intent() {
                    return intent;
                }

                @Override
                public boolean covers(long start, long end, boolean write) {
                    return held;
                }

                @Override
                public CoarseHold coarseHold() {
                    return held ? CoarseHold.WRITE : CoarseHold.NONE;
                }

                @Override
                public void startWrite(Vma vma) {
                    // Nobody else runs while we hold the mutex: nothing to wait for.
                }

                @Override
                public void close() {
                    if (held) {
                        held = false;
                        release();
                    }
                }
            };
        }

        @Override
        public boolean isIdle() {
            return !lock.isLocked() && lock.waiters() == 0;
        }

        @Override
        public String describe() {
            LockIntent h = holder;
            return "naive mutex: " + (h == null ? "free" : "held by " + h) + ", " + lock.waiters() + " waiting";
        }
    }
}
