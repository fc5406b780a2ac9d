package dev.mmlab.api;

import dev.mmlab.api.pgtable.PteTable;
import java.util.function.Supplier;

/**
 * An attempt that holds one lock for its whole run, so the VMA stays stable: it holds what that lock holds
 * mm-wide, installs anon identities, waits for I/O holding the lock, and has nothing to validate. Used as is
 * for faults taken by a caller that already holds a guard (get_user_pages, populate under the lock); strategies
 * extend it and override what differs (for example {@link #releaseForIo} for {@code VM_FAULT_RETRY}).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Takes no lock; the caller holds one that keeps the mapping of the faulting
 *       page stable for the whole attempt (a guard covering the address, or {@code held} of the whole space),
 *       which is why {@link #validate} has nothing to check. The anon identity is installed through
 *       {@link Vma#prepareAnon}'s CAS, safe under any lock that keeps the VMA alive. {@code held} is final; an
 *       attempt is used by one thread.</li>
 *   <li><b>Lock order.</b> none of its own: it runs inside the caller's lock, and the engine's fault core takes
 *       a PTL (and page-cache entries) under it. {@link #releaseForIo} returns false, so the core waits for I/O
 *       with the caller's lock held; a subclass that releases its lock there must not touch the VMA again.</li>
 * </ul>
 */
public class HoldingFaultAttempt implements FaultAttempt {
    private final CoarseHold held;

    /** An attempt holding {@code held} of the whole address space (NONE: a fine-grained lock covering the VMA). */
    public HoldingFaultAttempt(CoarseHold held) {
        this.held = held;
    }

    /** An attempt running under {@code guard}, which its caller holds. */
    public HoldingFaultAttempt(MmLockGuard guard) {
        this(guard.coarseHold());
    }

    /** What this attempt holds of the whole address space. */
    public final CoarseHold held() {
        return held;
    }

    @Override
    public boolean holds(LockNeed need) {
        return held.satisfies(need);
    }

    @Override
    public boolean prepareAnon(Vma vma, Supplier<AnonIdentity> identity) {
        vma.prepareAnon(identity.get());
        return true;
    }

    @Override
    public boolean releaseForIo() {
        return false;
    }

    @Override
    public boolean validate(PteTable table) {
        return true;
    }
}
