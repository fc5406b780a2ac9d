package dev.mmlab.api.sync;

import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.VmaTree;
import java.util.List;

/**
 * The coarse {@code mmap_lock} assembly that every design keeping Linux's per-mm rwsem for syscalls starts from:
 * one {@link RwSemaphore}, the {@link RwsemMmLock} over it with the kernel's switches, and the classic
 * {@link MmapLockFaultPath}. The baseline strategy is exactly this; speculative faults and per-VMA locks add
 * their bookkeeping through {@link RwsemMmLock.Hooks} and put their own fault handler in front of
 * {@link #faults()}.
 *
 * @param lock the mmap lock, as syscalls take it
 * @param faults the classic fault path under it, as the fallback of a faster path (its faults count as
 *     fallbacks in the engine's lock use; {@link #instance()} uses it as the primary path)
 * @param tree the VMA tree both use
 */
public record CoarseMmapLock(RwsemMmLock lock, MmapLockFaultPath faults, VmaTree tree) {
    static final String FAULT_RETRY = "faultRetry";
    static final String POPULATE_DROPS_LOCK = "populateDropsLock";
    static final String MUNMAP_DOWNGRADE = "munmapDowngrade";

    /** The switches {@link #create} reads, each on by default as in Linux; add them to a strategy's options. */
    public static List<StrategyOption> options() {
        return List.of(
                StrategyOption.bool(FAULT_RETRY, true, "a fault that waits for I/O under the mmap lock drops it and "
                        + "retries (VM_FAULT_RETRY)"),
                StrategyOption.bool(POPULATE_DROPS_LOCK, true, "MAP_POPULATE and mlock populate after dropping the "
                        + "write lock"),
                StrategyOption.bool(MUNMAP_DOWNGRADE, true, "munmap downgrades the mmap lock to read while zapping "
                        + "(Linux 4.20)"));
    }

    /**
     * The parts for one address space. {@code config} holds the {@link #options()}; {@code counterPrefix} names
     * the fault path's counters ({@code PREFIX.fault_retry_io}); {@code hooks} (may be null) is the strategy's
     * write-side bookkeeping.
     */
    public static CoarseMmapLock create(String counterPrefix, StrategyConfig config, MmContext context, VmaTree tree,
            RwsemMmLock.Hooks hooks) {
        RwsemMmLock lock = new RwsemMmLock(new RwSemaphore("mmap_lock", context.waits()), config.bool(MUNMAP_DOWNGRADE),
                config.bool(POPULATE_DROPS_LOCK), hooks);
        return new CoarseMmapLock(lock, new MmapLockFaultPath(lock, tree, context.counters(), counterPrefix,
                config.bool(FAULT_RETRY)).asFallback(), tree);
    }

    /** The baseline's parts: this lock, this fault path, this tree. */
    public StrategyInstance instance() {
        return StrategyInstance.of(lock, faults.asPrimary(), tree);
    }
}
