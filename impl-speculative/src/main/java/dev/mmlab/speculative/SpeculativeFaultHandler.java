package dev.mmlab.speculative;

import dev.mmlab.api.Access;
import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.FaultAttempt;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FaultResult;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.RetryReason;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.stats.Counters;
import dev.mmlab.api.sync.Sched;
import java.util.function.Supplier;

/**
 * Speculative page faults: find the VMA and do the fault's work with no mm lock, commit under the PTL only if
 * the sequence that guards the VMA is unchanged, otherwise discard the work and take the classic path under
 * the mmap read lock.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Nothing is locked on the speculative path: a sequence count stands in for
 *       the lock. In per-VMA mode it is the found VMA's count, read after the lookup; in per-mm mode the mm's
 *       count, read before it. Odd at the start: a writer is active ({@code seq_odd}). Under the PTL the
 *       attempt checks it is unchanged, and (per-VMA) the VMA still attached ({@code vma_changed}), and the PTE
 *       table not freed ({@code pmd_changed}). Every writer makes the count odd before it publishes, zaps, or
 *       restricts PTEs, and those steps take the same PTL: so a fault that commits before the writer's PTL
 *       section has its PTE zapped or restricted by the writer, and one that commits after sees the change.
 *       An attempt is used by one thread. The test probe is a plain field, set before faulting threads
 *       start.</li>
 *   <li><b>Lock order.</b> the speculative path takes one PTL, at commit, and nothing else; it holds nothing
 *       while it allocates or waits for I/O. On an abort it holds nothing when it enters the fallback, which
 *       takes the mmap read lock.</li>
 *   <li><b>What a reader may see mid-update.</b> The VMA tree is a {@code SnapshotVmaTree}, published by
 *       writers with one release store; a fault works on the snapshot it loaded and the {@link Vma} it found,
 *       whose attributes are immutable, so it may work on a VMA that was replaced meanwhile, which validation
 *       catches. The garbage collector is the RCU grace period. Outcomes other than MAPPED from a stale VMA are
 *       not trusted: the fault validates the sequence after them and falls back if it changed. SEGV and access
 *       errors are always decided by the locked path.</li>
 *   <li><b>What the fault may do without a lock</b> (the {@link FaultAttempt} answers): anything a
 *       fine-grained lock allows, so drivers not declared {@link LockNeed#FINE} for FAULT never run here
 *       ({@code vma_notsup}); not {@code anon_vma_prepare} ({@code vma_noanon}); it may wait for I/O, holding
 *       nothing, after which the core returns RETRY and the fault speculates once more (the page is now
 *       cached).</li>
 *   <li><b>No side effect before validation</b>, as {@code StampedLock}'s optimistic readers: the core
 *       releases a prepared page when validation fails; only a page-cache read (shared, and correct for
 *       whoever maps the file next) and an empty PTE table may be left behind.</li>
 *   <li><b>Follows.</b> Dufour's SPF series, v11, and Lespinasse's 2021 per-mm variant.</li>
 * </ul>
 * Counters: {@code speculative.success}, {@code speculative.fallback}, {@code speculative.retry_io} (waited
 * for I/O with no lock held) and {@code speculative.abort.REASON} (see {@link AbortReason}).
 */
final class SpeculativeFaultHandler implements FaultHandler {
    static final String PREFIX = "speculative";
    static final String SUCCESS = PREFIX + ".success";
    static final String FALLBACK = PREFIX + ".fallback";
    static final String RETRY_IO = PREFIX + ".retry_io";
    /** Speculation tries before the fallback: a second only after waiting for I/O with no lock held. */
    private static final int MAX_TRIES = 2;

    /** A test's window into a speculative fault, between the lookup and the fault work. */
    interface Probe {
        /** The fault found {@code vma} and read an even sequence; it holds no lock. May block or run syscalls. */
        void afterLookup(Vma vma, long addr);
    }

    private static final Probe NO_PROBE = (vma, addr) -> {};

    private final VmaTree tree;
    /** The per-mm count in {@code validation=mm} mode; null in per-VMA mode. */
    private final SeqCount mmSeq;
    private final FaultHandler fallback;
    private final Counters counters;
    /** Whether each fault takes a reference on its VMA's shared counter ({@code vmaRefcount}). */
    private final boolean vmaRefcount;
    /**
     * Set by tests before they start faulting threads ({@code Thread.start} publishes it); plain, so a
     * production fault pays one field load.
     */
    private Probe probe = NO_PROBE;

    SpeculativeFaultHandler(VmaTree tree, SeqCount mmSeq, FaultHandler fallback, Counters counters,
            boolean vmaRefcount) {
        this.vmaRefcount = vmaRefcount;
        this.tree = tree;
        this.mmSeq = mmSeq;
        this.fallback = fallback;
        this.counters = counters;
    }

    void setProbe(Probe probe) {
        this.probe = probe == null ? NO_PROBE : probe;
    }

    /**
     * Caller holds no lock of this mm. Speculates (lock-free; may sleep for allocation or I/O with no lock
     * held), then on any abort takes the classic path, which may block on the mmap lock. Never returns RETRY.
     */
    @Override
    public FaultOutcome handleFault(FaultCore core, long addr, Access access) {
        long page = addr & Linux.PAGE_MASK;
        for (int tries = 1;; tries++) {
            Attempt attempt = new Attempt();
            FaultOutcome outcome = speculate(core, attempt, page, access);
            if (outcome != null) {
                counters.increment(SUCCESS);
                return outcome;
            }
            if (attempt.waitedForIo) {
                counters.increment(RETRY_IO);
                if (tries < MAX_TRIES) {
                    continue;
                }
            } else {
                counters.increment(attempt.abort.counter());
            }
            break;
        }
        counters.increment(FALLBACK);
        return fallback.handleFault(core, addr, access);
    }

    /** One speculation. Returns the final outcome, or null with {@code attempt}'s abort reason set. */
    private FaultOutcome speculate(FaultCore core, Attempt attempt, long page, Access access) {
        Vma vma;
        SeqCount seq;
        long start;
        if (mmSeq != null) {
            seq = mmSeq;
            start = seq.readBegin();
            if ((start & 1) != 0) {
                return attempt.abort(AbortReason.SEQ_ODD);
            }
            vma = tree.find(page);
            if (vma == null) {
                return attempt.abort(AbortReason.NO_VMA);
            }
        } else {
            vma = tree.find(page);
            if (vma == null) {
                return attempt.abort(AbortReason.NO_VMA);
            }
            seq = VmaSequences.seqOf(vma);
            if (seq == null) {
                return attempt.abort(AbortReason.VMA_NOTSUP);
            }
            start = seq.readBegin();
            if ((start & 1) != 0) {
                return attempt.abort(AbortReason.SEQ_ODD);
            }
            if (vma.isDetached()) {
                return attempt.abort(AbortReason.VMA_CHANGED);
            }
        }
        if (vma.lockNeed(VmOpsCallback.FAULT) != LockNeed.FINE) {
            return attempt.abort(AbortReason.VMA_NOTSUP);
        }
        if (!vma.allows(access)) {
            return attempt.abort(AbortReason.VMA_ACCESS);
        }
        attempt.arm(vma, seq, start, mmSeq == null);
        probe.afterLookup(vma, page);
        FaultResult result;
        if (vmaRefcount) {
            // The variant Lespinasse measured: one atomic per VMA shared by every fault in it.
            Sched.access(seq.users, true);
            seq.users.incrementAndGet();
            try {
                result = core.fault(attempt, vma, page, access);
            } finally {
                Sched.access(seq.users, true);
                seq.users.decrementAndGet();
            }
        } else {
            result = core.fault(attempt, vma, page, access);
        }
        if (result.isRetry()) {
            // After RELEASED_FOR_IO waitedForIo is set; after INVALIDATED validate() recorded why.
            if (result.retryReason() == RetryReason.NEEDS_LOCK) {
                return attempt.abort(AbortReason.VMA_NOTSUP);
            }
            return result.retryReason() == RetryReason.NEEDS_ANON ? attempt.abort(AbortReason.VMA_NOANON) : null;
        }
        switch (result.outcome()) {
            case MAPPED:
                return FaultOutcome.MAPPED;
            case SEGV:
            case ACCESS:
                // Checked above from the same immutable VMA; the locked path gives the authoritative answer.
                return attempt.abort(AbortReason.VMA_CHANGED);
            default:
                // BUS or OOM computed from the snapshot: final only if the VMA did not change meanwhile.
                return attempt.stillValid() ? result.outcome() : attempt.abort(AbortReason.VMA_CHANGED);
        }
    }

    /** A speculative attempt: holds no lock, so it validates instead. Used by one thread. */
    private static final class Attempt implements FaultAttempt {
        private Vma vma;
        private SeqCount seq;
        private long start;
        private boolean perVma;
        AbortReason abort;
        boolean waitedForIo;

        FaultOutcome abort(AbortReason reason) {
            abort = reason;
            return null;
        }

        void arm(Vma found, SeqCount count, long startValue, boolean checkDetached) {
            this.vma = found;
            this.seq = count;
            this.start = startValue;
            this.perVma = checkDetached;
        }

        boolean stillValid() {
            return seq.validate(start) && !(perVma && vma.isDetached());
        }

        /** Only what a fine-grained lock allows: drivers not declared FINE for FAULT never run here. */
        @Override
        public boolean holds(LockNeed need) {
            return need == LockNeed.FINE;
        }

        /** {@code anon_vma_prepare} needs the mmap lock ({@code vma_noanon}). */
        @Override
        public boolean prepareAnon(Vma target, Supplier<AnonIdentity> identity) {
            return false;
        }

        /** Nothing to release: the core waits for the read with no lock held, then the fault speculates again. */
        @Override
        public boolean releaseForIo() {
            waitedForIo = true;
            return true;
        }

        /** Caller holds {@code table}'s PTL. Never blocks. Records why it failed. */
        @Override
        public boolean validate(PteTable table) {
            if (table.isDetached()) {
                abort = AbortReason.PMD_CHANGED;
                return false;
            }
            if (!stillValid()) {
                abort = AbortReason.VMA_CHANGED;
                return false;
            }
            return true;
        }
    }
}
