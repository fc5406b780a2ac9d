package dev.mmlab.pervma;

import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaLockState;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.stats.Counters;
import dev.mmlab.api.stats.LockWaitRecorder;
import dev.mmlab.api.sync.CoarseMmapLock;
import dev.mmlab.api.sync.RwsemMmLock;
import dev.mmlab.pervma.lock.MmLockSeq;
import dev.mmlab.pervma.lock.VmaLock;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The parts of one address space under per-VMA locking. Thread-safe.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>Follows.</b> The write side of per-VMA locking, Linux 6.4 ({@code include/linux/mmap_lock.h},
 *       {@code mm/mmap.c}).</li>
 *   <li><b>What protects what.</b> Every VMA's lock state against the syscalls that change the layout. The
 *       mmap lock is the api's {@link RwsemMmLock}, unchanged; the per-VMA protocol rides on its write side
 *       through {@link RwsemMmLock.Hooks}, which only the holder of the mmap write lock calls. So the per-cycle
 *       fields of {@code WriteSide} ({@code writer}, {@code marked}, {@code prepared}, {@code treeAtLock}) are
 *       plain: the mmap write lock orders every access to them (its release/acquire is the happens-before edge
 *       between cycles). The problems found by checking mode are a concurrent queue, read at quiescent
 *       points; the test-only skip count is atomic.</li>
 *   <li><b>Lock order.</b> mmap lock &rarr; a VMA's lock: {@code vma_start_write} waits for a VMA's readers
 *       under the mmap write lock; a VMA read lock may be taken under the mmap read lock, never the reverse
 *       ({@link VmaLockFaultHandler} checks its fallback). {@link #lockVmaForRead} only tries, so a /proc reader
 *       holding nothing never waits for a VMA.</li>
 *   <li><b>The hooks.</b>
 *       <ul>
 *         <li>{@code writeLocked}: a write cycle begins; remember the writer's intent (to attribute
 *             waits).</li>
 *         <li>{@code startWrite(v)}: {@code vma_start_write}: wait for {@code v}'s readers, then
 *             {@code vm_lock_seq = mm_lock_seq}. Recorded as a wait on {@code "vma_lock"} when readers are
 *             inside, with those readers as blockers.</li>
 *         <li>{@code prepareNew(v)}: a new VMA is write-locked, then marked attached, before the engine
 *             publishes it ({@code vma_start_write} + {@code vma_mark_attached} in
 *             {@code vma_link}/{@code vma_iter_store}), so a lockless reader that finds it in the new snapshot
 *             fails {@code vma_start_read} until the cycle ends.</li>
 *         <li>{@code writeUnlocking}: {@code mmap_write_unlock} / {@code mmap_write_downgrade}: every VMA of
 *             this cycle that left the tree gets {@code vma_mark_detached}, then {@code mm_lock_seq++}
 *             ({@code vma_end_write_all}) unlocks all marked VMAs at once.</li>
 *       </ul></li>
 *   <li><b>Why detach at writeUnlocking and not in startWrite.</b> {@code startWrite} is called while the VMA is
 *       still in the tree, and the operation may still fail after it (a driver's open callback refusing a
 *       split), leaving the VMA where it was; a VMA detached then would be a live VMA no fault can lock. At
 *       {@code writeUnlocking} the engine has published the new set and set {@link Vma#isDetached()} on
 *       exactly the VMAs it removed, and we still hold the mmap write lock with those VMAs write-locked, which
 *       is what {@code vma_mark_detached} requires. Our VMA objects are immutable, so every VMA passed to
 *       {@code startWrite} is either removed in that cycle or left untouched by a failed operation; there is
 *       no "changed in place".</li>
 *   <li><b>What a reader may see mid-update.</b> Between the publication and {@code writeUnlocking}, a reader
 *       holding a stale pointer fails {@code vma_start_read} on the sequence; after the seq bump it fails on
 *       the detached state. (Linux detaches inside the change, before {@code mmap_write_unlock}; the observable
 *       states are the same.)</li>
 *   <li><b>Invariants at a quiescent point</b> ({@link #checkQuiescent}): every VMA in the tree has a
 *       {@link VmaLock} that is attached, has no reader, and is not write-marked in the current cycle
 *       ({@code mm_lock_seq} moved past every mark).</li>
 *   <li><b>Bug classes caught.</b> Checking mode adds {@code vma_assert_write_locked} for removals: the tree at
 *       {@code writeLocked} is compared with the tree at {@code writeUnlocking} (one merge walk of two sorted
 *       arrays), and a VMA that left the tree without being write-locked is reported through
 *       {@link #checkQuiescent}: the bug class of CVE-2023-4611 (mbind forgot {@code vma_start_write}) and of
 *       the fork/COW fix (parent VMAs must be write-locked in {@code dup_mmap}).</li>
 * </ul>
 */
final class PerVmaInstance implements StrategyInstance {
    static final String VMA_LOCK_NAME = "vma_lock";

    private final SnapshotVmaTree tree = new SnapshotVmaTree();
    private final MmLockSeq mmSeq = new MmLockSeq();
    private final VmaReaders readers = new VmaReaders();
    private final Supplier<VmaLock> lockFactory;
    private final boolean mapsUnderVmaLock;
    private final boolean madviseUnderVmaLock;
    private final boolean checking;
    private final Counters counters;
    private final LockWaitRecorder waits;
    private final RwsemMmLock mmLock;
    private final FaultHandler faultHandler;
    private final Queue<String> problems = new ConcurrentLinkedQueue<>();
    private final AtomicInteger skipStartWrites = new AtomicInteger();
    private final boolean forkVmaLocking;

    /** {@code config} holds {@link PerVmaStrategy}'s options. */
    PerVmaInstance(Supplier<VmaLock> lockFactory, StrategyConfig config, MmContext context) {
        this.lockFactory = lockFactory;
        this.forkVmaLocking = config.bool("forkVmaLocking");
        this.mapsUnderVmaLock = config.bool("mapsUnderVmaLock");
        this.madviseUnderVmaLock = config.bool(PerVmaStrategy.MADVISE_UNDER_VMA_LOCK);
        this.checking = context.checking();
        this.counters = context.counters();
        this.waits = context.waits();
        CoarseMmapLock mmapLock = CoarseMmapLock.create(PerVmaStrategy.NAME, config, context, tree, new WriteSide());
        this.mmLock = mmapLock.lock();
        this.faultHandler = new VmaLockFaultHandler(tree, mmSeq, readers, counters, mmapLock.faults(), checking);
    }

    @Override
    public MmLock mmLock() {
        return mmLock;
    }

    @Override
    public FaultHandler faultHandler() {
        return faultHandler;
    }

    @Override
    public VmaTree vmaTree() {
        return tree;
    }

    /** A fresh lock, detached and never write-locked ({@code vma_lock_init}). */
    @Override
    public VmaLockState newVmaState() {
        return lockFactory.get();
    }

    /**
     * {@code lock_next_vma} (6.17): read-lock the first VMA ending after {@code addr} with no mmap lock. Returns
     * null when {@code mapsUnderVmaLock} is off, when no VMA follows, or when the VMA is write-locked (the
     * engine then reads that chunk under the mmap read lock). Caller holds no lock of this mm. Never blocks.
     */
    @Override
    public Vma lockVmaForRead(long addr, LockIntent intent) {
        if (!mapsUnderVmaLock) {
            return null;
        }
        for (int misses = 0; misses < 8; misses++) {
            Vma vma = tree.findNext(addr);
            if (vma == null) {
                return null;
            }
            VmaLock lock = lockOf(vma);
            if (!lock.tryStartRead(mmSeq)) {
                if (lock.isDetached()) {
                    continue; // replaced since the lookup: look again
                }
                counters.increment(PerVmaStrategy.NAME + ".maps_fallback");
                return null;
            }
            if (vma.isDetached()) {
                lock.endRead();
                continue;
            }
            readers.enter(vma, intent.op(), vma.start(), vma.end());
            return vma;
        }
        return null;
    }

    /**
     * {@code try_vma_read_lock} (6.18 {@code mm/madvise.c}): {@code lock_vma_under_rcu} at the start of a madvise
     * range, kept only when that VMA covers the whole range ({@code is_vma_lock_sufficient}). Returns null when
     * {@code madviseUnderVmaLock} is off or the operation is not madvise, and, counted as
     * {@code pervma.madvise.fallback.REASON}, when nothing is mapped at the start ({@code no_vma}), the range
     * spans VMAs ({@code spans_vmas}) or the VMA is write-locked ({@code vma_locked}); the engine then takes the
     * mmap read lock. Caller holds no lock of this mm. Never blocks.
     */
    @Override
    public Vma lockVmaCovering(LockIntent intent) {
        if (!madviseUnderVmaLock || intent.op() != OpKind.MADVISE) {
            return null;
        }
        for (int misses = 0; misses < 8; misses++) {
            Vma vma = tree.find(intent.start());
            if (vma == null) {
                return madviseFallback("no_vma");
            }
            if (vma.end() < intent.end()) {
                return madviseFallback("spans_vmas");
            }
            VmaLock lock = lockOf(vma);
            if (!lock.tryStartRead(mmSeq)) {
                if (lock.isDetached()) {
                    continue; // replaced since the lookup: look again
                }
                return madviseFallback("vma_locked");
            }
            if (vma.isDetached()) {
                lock.endRead();
                continue;
            }
            readers.enter(vma, OpKind.MADVISE, intent.start(), intent.end());
            counters.increment(PerVmaStrategy.NAME + ".madvise.success");
            return vma;
        }
        return madviseFallback("replaced");
    }

    private Vma madviseFallback(String reason) {
        counters.increment(PerVmaStrategy.NAME + ".madvise.fallback." + reason);
        return null;
    }

    /**
     * {@code vma_end_read} for a VMA returned by {@link #lockVmaForRead} or {@link #lockVmaCovering}, on the same
     * thread. Never blocks.
     */
    @Override
    public void unlockVmaForRead(Vma vma) {
        readers.exitCurrent(vma);
        lockOf(vma).endRead();
    }

    @Override
    public List<String> checkQuiescent(List<Vma> vmas) {
        List<String> out = new ArrayList<>(problems);
        long seq = mmSeq.read();
        for (Vma v : vmas) {
            if (!(v.lockState() instanceof VmaLock)) {
                out.add("VMA without a per-VMA lock: " + v);
                continue;
            }
            VmaLock lock = (VmaLock) v.lockState();
            if (lock.readers() != 0) {
                out.add(lock.readers() + " VMA read lock(s) left behind on " + v + " (" + lock + ")");
            }
            if (lock.isWriteLocked(seq)) {
                out.add("VMA still write-marked in the current cycle " + seq + ": " + v + " (" + lock + ")");
            }
            if (lock.isDetached()) {
                out.add("VMA in the tree but its lock is detached: " + v + " (" + lock + ")");
            }
        }
        return out;
    }

    /** The mm's {@code mm_lock_seq}, for tests. */
    MmLockSeq mmLockSeq() {
        return mmSeq;
    }

    /**
     * Test-only: the next {@code n} calls of {@code vma_start_write} do nothing, simulating a change path that
     * forgets it (CVE-2023-4611). Checking mode reports each VMA removed that way through checkQuiescent.
     */
    void skipStartWrite(int n) {
        skipStartWrites.addAndGet(n);
    }

    static VmaLock lockOf(Vma vma) {
        return vma.lockState(VmaLock.class);
    }

    /** The mmap write lock holder's half of the protocol. Every method runs under the mmap write lock. */
    private final class WriteSide implements RwsemMmLock.Hooks {
        private LockIntent writer;
        private final List<Vma> marked = new ArrayList<>();
        private final List<Vma> prepared = new ArrayList<>();
        private List<Vma> treeAtLock;

        @Override
        public void writeLocked(LockIntent intent) {
            writer = intent;
            if (checking) {
                treeAtLock = tree.all();
            }
        }

        @Override
        public void startWrite(Vma vma) {
            if (skipStartWrites.get() > 0 && skipStartWrites.getAndDecrement() > 0) {
                counters.increment(PerVmaStrategy.NAME + ".test_skipped_start_write");
                return;
            }
            if (!forkVmaLocking && writer != null && writer.op() == OpKind.FORK) {
                // Pre-6.4 dup_mmap: parent VMAs are copied without vma_start_write (unsafe; for measuring its cost).
                counters.increment(PerVmaStrategy.NAME + ".fork_unlocked_vma");
                return;
            }
            VmaLock lock = lockOf(vma);
            long seq = mmSeq.read();
            if (lock.isWriteLocked(seq)) {
                return; // already marked (or prepared) in this cycle, and tracked then
            }
            LockWaitRecorder.Pending pending = null;
            if (lock.readers() > 0) {
                pending = waits.begin(writer, readers.holdersOf(vma), VMA_LOCK_NAME);
            }
            try {
                lock.startWrite(seq);
            } finally {
                if (pending != null) {
                    pending.end();
                }
            }
            marked.add(vma);
        }

        @Override
        public void prepareNew(Vma vma) {
            VmaLock lock = lockOf(vma);
            lock.startWrite(mmSeq.read());
            lock.markAttached();
            prepared.add(vma);
        }

        @Override
        public void writeUnlocking() {
            long seq = mmSeq.read();
            if (checking && treeAtLock != null) {
                assertRemovalsWriteLocked(treeAtLock, tree.all(), seq);
            }
            for (Vma v : marked) {
                if (v.isDetached()) {
                    detach(v);
                }
            }
            for (Vma v : prepared) {
                // Removed later in the same cycle, or never published because the operation failed.
                if (v.isDetached() || tree.find(v.start()) != v) {
                    detach(v);
                }
            }
            marked.clear();
            prepared.clear();
            treeAtLock = null;
            writer = null;
            mmSeq.endWriteCycle();
        }

        private void detach(Vma v) {
            VmaLock lock = lockOf(v);
            if (!lock.isDetached()) {
                lock.markDetached();
            }
        }

        /** vma_assert_write_locked for every VMA that left the tree this cycle; both lists sorted by start. */
        private void assertRemovalsWriteLocked(List<Vma> before, List<Vma> after, long seq) {
            int j = 0;
            for (Vma old : before) {
                while (j < after.size() && after.get(j).start() < old.start()) {
                    j++;
                }
                if (j < after.size() && after.get(j) == old) {
                    continue;
                }
                VmaLock lock = lockOf(old);
                if (!lock.isWriteLocked(seq)) {
                    String problem = "VMA " + old + " left the tree in mmap write cycle " + seq + " without "
                            + "vma_start_write (" + lock + "): a fault could run on it while it changed";
                    problems.add(problem);
                    counters.increment(PerVmaStrategy.NAME + ".unlocked_change");
                    marked.add(old); // detach it all the same, as the buggy kernel path would
                }
            }
        }
    }
}
