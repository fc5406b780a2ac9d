package dev.mmlab.pervma;

import dev.mmlab.api.Access;
import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.FaultAttempt;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FaultResult;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.stats.Counters;
import dev.mmlab.pervma.lock.MmLockSeq;
import dev.mmlab.pervma.lock.VmaLock;
import java.util.function.Supplier;

/**
 * The per-VMA lock fault handler: lockless lookup, {@code vma_start_read}, fault under the VMA read lock,
 * falling back to the mmap lock path on any failure. Counts {@code pervma.success}, {@code abort},
 * {@code retry} and {@code miss} as {@code CONFIG_PER_VMA_LOCK_STATS} does. Thread-safe.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>Follows.</b> The fault path of {@code CONFIG_PER_VMA_LOCK} ({@code arch/x86/mm/fault.c}
 *       {@code do_user_addr_fault}, {@code mm/memory.c} {@code lock_vma_under_rcu}, 6.4 to 6.15). Each try
 *       looks the VMA up locklessly (our {@code SnapshotVmaTree}: one acquire load of an immutable array, the
 *       GC being the RCU grace period, so a VMA object found here stays readable however stale it is), then:
 *       <ul>
 *         <li>no VMA: ABORT, mmap lock path (which decides SEGV or stack expansion);</li>
 *         <li>{@code vma_start_read} fails and the VMA is detached: MISS, look up again (a writer replaced
 *             it: progress was made);</li>
 *         <li>{@code vma_start_read} fails otherwise: ABORT, mmap lock path;</li>
 *         <li>locked, but detached or no longer covering the address: unlock, MISS, look up again;</li>
 *         <li>{@code handle_mm_fault(FAULT_FLAG_VMA_LOCK)} returns anything but RETRY: unlock, SUCCESS;</li>
 *         <li>RETRY (the VMA lock was not enough: no {@code anon_vma} yet, a driver not declared
 *             fine-grained, a page cache miss after which the lock was dropped for I/O): RETRY, mmap lock
 *             path.</li>
 *       </ul></li>
 *   <li><b>What protects what.</b> The VMA read lock, held from {@code vma_start_read} to the end of the
 *       attempt (or until the attempt drops it for I/O), keeps the VMA from being changed or removed:
 *       {@code vma_start_write} waits for it. An attempt is used by one thread; its {@code released} flag
 *       makes {@code vma_end_read} happen exactly once.</li>
 *   <li><b>Lock order.</b> ({@code Documentation/mm/process_addrs.rst}) A VMA read lock may be taken under the
 *       mmap read lock, never the reverse. This path drops the VMA lock before the fallback takes the mmap
 *       lock; in checking mode the fallback asserts it. Under the VMA read lock the engine takes a PTL.</li>
 *   <li><b>What the attempt may see mid-update.</b> Nothing. While we hold the VMA read lock no writer can
 *       have marked it ({@code vma_start_write} waits for us), and VMA attributes are immutable objects, so the
 *       VMA we fault on is exactly the one the tree held when we locked it. Hence {@code validate()} is always
 *       true: under a VMA lock the kernel does no sequence validation at PTE commit either.</li>
 * </ul>
 */
final class VmaLockFaultHandler implements FaultHandler {
    static final String SUCCESS = PerVmaStrategy.NAME + ".success";
    static final String ABORT = PerVmaStrategy.NAME + ".abort";
    static final String RETRY = PerVmaStrategy.NAME + ".retry";
    static final String MISS = PerVmaStrategy.NAME + ".miss";
    /**
     * Misses in a row before giving up on the VMA lock. Linux retries without bound (each miss means a writer
     * finished); a bound keeps a pathological test from spinning, and the mmap lock path is always correct.
     */
    private static final int MAX_MISSES = 8;

    private final VmaTree tree;
    private final MmLockSeq mmSeq;
    private final VmaReaders readers;
    private final Counters counters;
    private final FaultHandler fallback;
    private final boolean checking;

    VmaLockFaultHandler(VmaTree tree, MmLockSeq mmSeq, VmaReaders readers, Counters counters, FaultHandler fallback,
            boolean checking) {
        this.tree = tree;
        this.mmSeq = mmSeq;
        this.readers = readers;
        this.counters = counters;
        this.fallback = fallback;
        this.checking = checking;
    }

    /**
     * {@inheritDoc} Caller holds no lock of this mm, in particular no VMA read lock. Never blocks on the VMA
     * path; the fallback may block on the mmap lock and on I/O.
     */
    @Override
    public FaultOutcome handleFault(FaultCore core, long addr, Access access) {
        long page = addr & Linux.PAGE_MASK;
        for (int misses = 0; misses < MAX_MISSES;) {
            Vma vma = tree.find(page);
            if (vma == null) {
                counters.increment(ABORT);
                break;
            }
            VmaLock lock = PerVmaInstance.lockOf(vma);
            if (!lock.tryStartRead(mmSeq)) {
                if (lock.isDetached()) {
                    counters.increment(MISS);
                    misses++;
                    continue;
                }
                counters.increment(ABORT);
                break;
            }
            if (vma.isDetached() || !vma.contains(page)) {
                lock.endRead();
                counters.increment(MISS);
                misses++;
                continue;
            }
            VmaLockAttempt attempt = new VmaLockAttempt(lock, readers.enter(vma, OpKind.FAULT, page,
                    page + Linux.PAGE_SIZE));
            FaultResult result;
            try {
                result = core.fault(attempt, vma, page, access);
            } finally {
                attempt.release();
            }
            if (!result.isRetry()) {
                counters.increment(SUCCESS);
                return result.outcome();
            }
            counters.increment(RETRY);
            break;
        }
        if (checking && readers.currentThreadHoldsVma()) {
            throw new IllegalStateException("fault at " + Linux.hex(addr) + " would take the mmap lock while holding "
                    + "a VMA read lock: the lock order is mmap_lock, then a VMA lock, never the reverse");
        }
        return fallback.handleFault(core, addr, access);
    }

    /** One try under a VMA read lock: holds only FINE, cannot prepare an anon identity, drops the lock for I/O. */
    private static final class VmaLockAttempt implements FaultAttempt {
        private final VmaLock lock;
        private final VmaReaders.Slot slot;
        private boolean released;

        VmaLockAttempt(VmaLock lock, VmaReaders.Slot slot) {
            this.lock = lock;
            this.slot = slot;
        }

        /** A driver not declared safe for fine-grained faults gets a retry, then the mmap lock (vmf_can_call_fault). */
        @Override
        public boolean holds(LockNeed need) {
            return need == LockNeed.FINE;
        }

        /** {@code vmf_anon_prepare}: anon_vma_prepare may need the mmap lock, so under a VMA lock it is a retry. */
        @Override
        public boolean prepareAnon(Vma vma, Supplier<AnonIdentity> identity) {
            return false;
        }

        /**
         * Since 6.x a fault under a VMA lock drops it before waiting for I/O (VM_FAULT_RETRY), as the mmap lock
         * path has done since 2010; the retry then finds the page cached.
         */
        @Override
        public boolean releaseForIo() {
            release();
            return true;
        }

        @Override
        public boolean validate(PteTable table) {
            return true;
        }

        /** vma_end_read, once. */
        void release() {
            if (!released) {
                released = true;
                VmaReaders.exit(slot);
                lock.endRead();
            }
        }
    }
}
