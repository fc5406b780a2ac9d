package dev.mmlab.api;

import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.mem.BackingFile;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A virtual memory area {@code [start, end)}: flags, page offset, backing file, driver and anon identity.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The mapping attributes are immutable: a change (split, merge, mprotect,
 *       mremap) retires this object and publishes new ones, so a lockless reader that loaded a {@code Vma}
 *       always sees one consistent set of attributes, and a validating reader detects change by
 *       {@link #isDetached()}. Three fields are mutable, each with its own rule:
 *       <ul>
 *         <li>{@code anon}: set once, from null, by the first anonymous fault ({@code anon_vma_prepare}); a
 *             CAS, so racing faults agree on one identity.</li>
 *         <li>{@code detached}: set by the engine when the VMA leaves the tree, after the strategy isolated it
 *             ({@link MmLockGuard#startWrite}); never cleared.</li>
 *         <li>the strategy's {@link #lockState()} object (a per-VMA lock, a sequence count), which follows
 *             the strategy's own protocol.</li>
 *       </ul></li>
 *   <li><b>Lock order.</b> none: a {@code Vma} takes no lock. {@link #prepareAnon} is lock-free and safe
 *       under any lock that keeps the VMA alive; {@link #markDetached} is called by a holder of the guard that
 *       isolated the VMA.</li>
 *   <li><b>Memory semantics.</b> {@code anon} and {@code detached} are volatile; {@code anon} is installed with
 *       a {@link VarHandle} compare-and-exchange. The final attributes are safely published by whatever
 *       publishes the {@code Vma} (the VMA tree's release store).</li>
 * </ul>
 */
public final class Vma {
    private static final VarHandle ANON;

    static {
        try {
            ANON = MethodHandles.lookup().findVarHandle(Vma.class, "anon", AnonIdentity.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long start;
    private final long end;
    private final long flags;
    private final long pgoff;
    private final BackingFile file;
    private final VmOps ops;
    private final VmaLockState lockState;
    private volatile AnonIdentity anon;
    private volatile boolean detached;

    /**
     * @param pgoff offset of {@code start} in the file, in pages; for private anonymous memory, {@code start >> PAGE_SHIFT}
     * @param lockState the strategy's per-VMA state ({@link StrategyInstance#newVmaState()}), may be null
     */
    public Vma(long start, long end, long flags, long pgoff, BackingFile file, VmOps ops, AnonIdentity anon,
            VmaLockState lockState) {
        if (start >= end || !Linux.isPageAligned(start) || !Linux.isPageAligned(end)) {
            throw new IllegalArgumentException("bad VMA range " + Long.toHexString(start) + "-" + Long.toHexString(end));
        }
        this.start = start;
        this.end = end;
        this.flags = flags;
        this.pgoff = pgoff;
        this.file = file;
        this.ops = ops;
        this.anon = anon;
        this.lockState = lockState;
    }

    public long start() {
        return start;
    }

    public long end() {
        return end;
    }

    public long length() {
        return end - start;
    }

    public long flags() {
        return flags;
    }

    public long pgoff() {
        return pgoff;
    }

    /** The file page that maps {@code addr} ({@code linear_page_index}). */
    public long pgoffOf(long addr) {
        return pgoff + ((addr - start) >>> Linux.PAGE_SHIFT);
    }

    /** Null for anonymous memory (private); shared anonymous memory has a shmem file. */
    public BackingFile file() {
        return file;
    }

    /** The driver, or null for plain anonymous and page-cache file memory. */
    public VmOps ops() {
        return ops;
    }

    public AnonIdentity anon() {
        return anon;
    }

    /**
     * {@code anon_vma_prepare}: install {@code candidate} as this VMA's anon identity unless one is there.
     * Returns the identity now installed. Lock-free; safe under any lock that keeps the VMA alive.
     */
    public AnonIdentity prepareAnon(AnonIdentity candidate) {
        AnonIdentity witness = (AnonIdentity) ANON.compareAndExchange(this, (AnonIdentity) null, candidate);
        return witness == null ? candidate : witness;
    }

    /** The strategy's state for this VMA, or null when the strategy keeps none. */
    public VmaLockState lockState() {
        return lockState;
    }

    /**
     * The strategy's state for this VMA as {@code type}.
     *
     * @throws IllegalStateException when the VMA carries no state of that type (it was not created with this
     *     strategy's {@link StrategyInstance#newVmaState()})
     */
    public <T extends VmaLockState> T lockState(Class<T> type) {
        if (!type.isInstance(lockState)) {
            throw new IllegalStateException("VMA " + this + " has no " + type.getSimpleName() + " (" + lockState
                    + "): it was not created with this strategy's newVmaState()");
        }
        return type.cast(lockState);
    }

    public boolean isDetached() {
        return detached;
    }

    /** Called by the engine when the VMA leaves the tree. Caller has isolated it through its guard. */
    public void markDetached() {
        detached = true;
    }

    public boolean contains(long addr) {
        return start <= addr && addr < end;
    }

    public boolean overlaps(long otherStart, long otherEnd) {
        return Linux.overlaps(start, end, otherStart, otherEnd);
    }

    public boolean has(long flag) {
        return (flags & flag) != 0;
    }

    public boolean isShared() {
        return has(VM_SHARED);
    }

    /** Private anonymous memory (no file, no driver). */
    public boolean isAnonymous() {
        return file == null && ops == null;
    }

    /** {@code VM_SPECIAL}: mappings that never merge or grow. */
    public boolean isSpecial() {
        return has(VM_IO | VM_DONTEXPAND | VM_PFNMAP);
    }

    /** The lock a driver callback needs; {@link LockNeed#FINE} when there is no driver. */
    public LockNeed lockNeed(VmOpsCallback callback) {
        return ops == null ? LockNeed.FINE : ops.lockNeed(callback);
    }

    /** Whether the VMA allows {@code access} ({@code access_error} negated). */
    public boolean allows(Access access) {
        switch (access) {
            case WRITE:
                return has(VM_WRITE);
            case EXEC:
                return has(VM_EXEC);
            default:
                return has(VM_READ | VM_WRITE | VM_EXEC);
        }
    }

    /** The {@code rwxp} column of /proc/pid/maps. */
    public String permissions() {
        return new StringBuilder(4)
                .append(has(VM_READ) ? 'r' : '-')
                .append(has(VM_WRITE) ? 'w' : '-')
                .append(has(VM_EXEC) ? 'x' : '-')
                .append(has(VM_MAYSHARE) ? 's' : 'p')
                .toString();
    }

    /** Same attributes on another range; pgoff follows the start. Caller supplies the new lock state. */
    public Vma withRange(long newStart, long newEnd, VmaLockState newLockState) {
        long newPgoff = pgoff + ((newStart - start) >> Linux.PAGE_SHIFT);
        return new Vma(newStart, newEnd, flags, newPgoff, file, ops, anon, newLockState);
    }

    /** Same range and mapping with other flags. */
    public Vma withFlags(long newFlags, VmaLockState newLockState) {
        return new Vma(start, end, newFlags, pgoff, file, ops, anon, newLockState);
    }

    @Override
    public String toString() {
        return String.format("%x-%x %s %x%s%s", start, end, permissions(), pgoff,
                file != null ? " " + file.path() : "", ops != null ? " [" + ops.name() + "]" : "");
    }
}
