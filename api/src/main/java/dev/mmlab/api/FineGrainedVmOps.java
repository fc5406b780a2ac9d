package dev.mmlab.api;

/**
 * A driver audited for fine-grained locking: every callback is declared {@link LockNeed#FINE}, safe under
 * any lock that covers the VMA, so it never pushes a strategy onto the coarse lock. Extend it and implement
 * {@link #fault} (and whichever other callbacks the driver has).
 */
public abstract class FineGrainedVmOps implements VmOps {
    private final String name;

    protected FineGrainedVmOps(String name) {
        this.name = name;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final LockNeed lockNeed(VmOpsCallback callback) {
        return LockNeed.FINE;
    }
}
