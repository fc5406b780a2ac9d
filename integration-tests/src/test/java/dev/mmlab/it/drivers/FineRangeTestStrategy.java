package dev.mmlab.it.drivers;

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
import dev.mmlab.api.stats.Counters;
import dev.mmlab.api.stats.LockWaitRecorder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A deliberately simple fine-grained strategy for the driver tests, so that the fine-grained half of every
 * driver test runs (and can fail) before the real fine-grained strategies land. Not registered with
 * ServiceLoader: other suites that discover strategies must not see it.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> One mutex-protected list of held ranges, read or write; a request waits
 *       (on a condition of the mutex) while any held range overlaps it and either side writes (no FIFO: test
 *       runs are short). Syscalls lock the range the engine asks for; only a range from 0 past TASK_SIZE counts
 *       as the coarse lock. Anything that changes or removes a VMA write-locks a range covering all of it, so a
 *       VMA still in the tree under a read range is stable.</li>
 *   <li><b>Lock order.</b> a held range &rarr; the engine's locks (a PTL). The mutex is held only to check and
 *       update the list (and to record a wait's end, which takes the recorder's monitors); it is released while
 *       a request waits on the condition.</li>
 *   <li><b>Faults.</b> A fault looks its VMA up without a lock, read-locks exactly that VMA's range, and
 *       re-checks the VMA is still the one mapping the address. A fault whose driver needs more retries under
 *       the coarse lock (read, then write), which is the fallback the driver whitelist asks every strategy
 *       for.</li>
 * </ul>
 */
final class FineRangeTestStrategy implements LockingStrategy {
    static final String NAME = "fine-range-test";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "test-only range lock: faults lock their VMA, syscalls their range";
    }

    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        VmaTree tree = new SnapshotVmaTree();
        RangeLock lock = new RangeLock(context.waits());
        FaultHandler faults = new Faults(lock, tree, context.counters());
        return StrategyInstance.of(lock, faults, tree);
    }

    private static final class Held {
        final LockIntent intent;
        final long start;
        final long end;
        final boolean write;

        Held(LockIntent intent, long start, long end, boolean write) {
            this.intent = intent;
            this.start = start;
            this.end = end;
            this.write = write;
        }

        boolean conflicts(long s, long e, boolean w) {
            return (write || w) && Linux.overlaps(start, end, s, e);
        }

        boolean isCoarse() {
            return start == 0 && end > Linux.TASK_SIZE;
        }
    }

    static final class RangeLock implements MmLock {
        private final ReentrantLock mutex = new ReentrantLock();
        private final Condition released = mutex.newCondition();
        private final List<Held> held = new ArrayList<>();
        private final LockWaitRecorder waits;
        private int waiting;

        RangeLock(LockWaitRecorder waits) {
            this.waits = waits;
        }

        /** Caller holds nothing of this lock. May block; uninterruptible when {@code interruptible} is false. */
        Held acquire(LockIntent intent, long start, long end, boolean write, boolean interruptible) {
            mutex.lock();
            try {
                LockWaitRecorder.Pending pending = null;
                boolean interrupted = false;
                try {
                    while (true) {
                        List<LockIntent> blockers = new ArrayList<>();
                        for (Held h : held) {
                            if (h.conflicts(start, end, write)) {
                                blockers.add(h.intent);
                            }
                        }
                        if (blockers.isEmpty()) {
                            break;
                        }
                        if (pending == null) {
                            pending = waits.begin(intent, blockers, "range_lock");
                        }
                        waiting++;
                        try {
                            released.await();
                        } catch (InterruptedException e) {
                            if (interruptible) {
                                throw new ErrnoException(Errno.EINTR, "interrupted waiting for " + intent);
                            }
                            interrupted = true;
                        } finally {
                            waiting--;
                        }
                    }
                } finally {
                    if (pending != null) {
                        pending.end();
                    }
                    if (interrupted) {
                        Thread.currentThread().interrupt();
                    }
                }
                Held h = new Held(intent, start, end, write);
                held.add(h);
                return h;
            } finally {
                mutex.unlock();
            }
        }

        void release(Held h) {
            mutex.lock();
            try {
                if (held.remove(h)) {
                    released.signalAll();
                }
            } finally {
                mutex.unlock();
            }
        }

        @Override
        public MmLockGuard lock(LockIntent intent) {
            Held h = acquire(intent, intent.start(), intent.end(), intent.isWrite(), true);
            return new MmLockGuard() {
                private boolean closed;

                @Override
                public LockIntent intent() {
                    return intent;
                }

                @Override
                public boolean covers(long start, long end, boolean write) {
                    return h.start <= start && end <= h.end && (!write || h.write);
                }

                @Override
                public CoarseHold coarseHold() {
                    return !h.isCoarse() ? CoarseHold.NONE : h.write ? CoarseHold.WRITE : CoarseHold.READ;
                }

                @Override
                public void startWrite(Vma vma) {
                    // The write range covers the VMA: every fault reading it holds an overlapping range.
                }

                @Override
                public void close() {
                    if (!closed) {
                        closed = true;
                        release(h);
                    }
                }
            };
        }

        @Override
        public boolean isIdle() {
            mutex.lock();
            try {
                return held.isEmpty() && waiting == 0;
            } finally {
                mutex.unlock();
            }
        }

        @Override
        public String describe() {
            mutex.lock();
            try {
                StringBuilder sb = new StringBuilder("range lock: ");
                for (Held h : held) {
                    sb.append(h.write ? "W " : "R ").append(h.intent).append("; ");
                }
                return sb.append(waiting).append(" waiting").toString();
            } finally {
                mutex.unlock();
            }
        }
    }

    private static final class Faults implements FaultHandler {
        private final RangeLock lock;
        private final VmaTree tree;
        private final Counters counters;

        Faults(RangeLock lock, VmaTree tree, Counters counters) {
            this.lock = lock;
            this.tree = tree;
            this.counters = counters;
        }

        @Override
        public FaultOutcome handleFault(FaultCore core, long addr, Access access) {
            long page = addr & Linux.PAGE_MASK;
            LockIntent intent = LockIntent.of(OpKind.FAULT, LockIntent.Mode.READ, page, page + Linux.PAGE_SIZE);
            CoarseHold level = CoarseHold.NONE;
            while (true) {
                Held h;
                Vma vma;
                if (level == CoarseHold.NONE) {
                    vma = tree.find(page);
                    if (vma == null) {
                        level = CoarseHold.READ;
                        continue;
                    }
                    h = lock.acquire(intent.withRange(vma.start(), vma.end()), vma.start(), vma.end(), false, false);
                    if (vma.isDetached() || tree.find(page) != vma) {
                        lock.release(h);
                        counters.increment(NAME + ".fault_vma_changed");
                        continue;
                    }
                } else {
                    boolean write = level == CoarseHold.WRITE;
                    LockIntent coarse = intent.asCoarse().withMode(write ? LockIntent.Mode.WRITE : LockIntent.Mode.READ);
                    h = lock.acquire(coarse, coarse.start(), coarse.end(), write, false);
                    vma = tree.find(page);
                }
                FaultResult result;
                try {
                    result = core.fault(new HoldingFaultAttempt(level), vma, page, access);
                } finally {
                    lock.release(h);
                }
                if (!result.isRetry()) {
                    return result.outcome();
                }
                if (level == CoarseHold.WRITE) {
                    throw new IllegalStateException("fault retried under the coarse write lock at " + Linux.hex(page));
                }
                counters.increment(NAME + ".fault_coarse");
                level = level == CoarseHold.NONE ? CoarseHold.READ : CoarseHold.WRITE;
            }
        }
    }
}
