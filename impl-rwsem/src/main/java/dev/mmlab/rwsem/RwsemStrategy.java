package dev.mmlab.rwsem;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.sync.CoarseMmapLock;
import java.util.List;

/**
 * The baseline: one reader/writer semaphore per address space guards every VMA and page-table change, as
 * {@code mmap_sem}/{@code mmap_lock} does in Linux. Faults take it for reading, syscalls that change the
 * layout for writing; a queued writer blocks new readers. The kernel's three mitigations are switches, on by
 * default as in Linux: {@code faultRetry} (a fault waiting for I/O drops the lock and retries, 2010),
 * {@code populateDropsLock} (MAP_POPULATE/mlock fault pages in after releasing the write lock) and
 * {@code munmapDowngrade} (munmap zaps under the read lock, 4.20).
 */
public final class RwsemStrategy implements LockingStrategy {
    public static final String NAME = "rwsem";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "one per-mm rwsem (mmap_lock) as in Linux, with fault retry, populate unlock and munmap downgrade";
    }

    @Override
    public List<StrategyOption> options() {
        return CoarseMmapLock.options();
    }

    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        return CoarseMmapLock.create(NAME, config, context, new SnapshotVmaTree(), null).instance();
    }
}
