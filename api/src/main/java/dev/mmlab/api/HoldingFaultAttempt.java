package dev.mmlab.api;

import dev.mmlab.api.pgtable.PteTable;
import java.util.function.Supplier;

/**
 * An attempt that holds one lock for its whole run, so the VMA stays stable: it holds what that lock holds
 * mm-wide, installs anon identities, waits for I/O holding the lock, and has nothing to validate. Used as is
 * for faults taken by a caller that already holds a guard (get_user_pages, populate under the lock); strategies
 * extend it and override what differs (for example {@link #releaseForIo} for {@code VM_FAULT_RETRY}).
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
