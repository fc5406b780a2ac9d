package dev.mmlab.api;

import dev.mmlab.api.pgtable.PteTable;

/**
 * The attempt of a fault taken by a caller that already holds a guard (get_user_pages, populate under the
 * lock): it holds what the guard holds, may prepare an anon identity, cannot drop the guard for I/O, and has
 * nothing to validate (the guard keeps the VMA stable).
 */
public final class HoldingFaultAttempt implements FaultAttempt {
    private final MmLockGuard guard;
    private final LockIntent intent;

    public HoldingFaultAttempt(MmLockGuard guard) {
        this.guard = guard;
        this.intent = guard.intent();
    }

    @Override
    public LockIntent intent() {
        return intent;
    }

    @Override
    public boolean holds(LockNeed need) {
        return need == LockNeed.FINE || guard.coarseLevel().atLeast(need);
    }

    @Override
    public boolean mayPrepareAnon() {
        return true;
    }

    @Override
    public boolean dropForIo() {
        return false;
    }

    @Override
    public boolean validate(PteTable table) {
        return true;
    }
}
