package dev.mmlab.rangelock;

import dev.mmlab.api.Linux;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.rangelock.lock.ListRangeLock;
import dev.mmlab.rangelock.lock.RangeLock;
import dev.mmlab.rangelock.lock.TreeRangeLock;
import java.util.List;

/**
 * Michel Lespinasse's proposal (LPC 2019, "Replacing mmap_sem with finer grained locks"): the mm lock is a
 * reader/writer range lock over the address space, the coarse lock is its full range, and a short "VMA lock"
 * protects the VMA lookups of a fault and the range-lock queueing. A fault locks the 2 MiB block around its
 * address (anonymous memory) or its VMA (file and driver memory) for reading; syscalls lock the range they
 * change plus the neighbours a merge may touch. Options: {@code impl=tree} (Kara/Bueso interval tree, FIFO
 * among overlapping requests) or {@code impl=list} (Kogan/Dice/Issa lock-free list, not fair), and
 * {@code anonFaultGranule} (bytes; a power of two, at least a page).
 */
public final class RangeLockStrategy implements LockingStrategy {
    public static final String NAME = "rangelock";
    static final String IMPL = "impl";
    static final String GRANULE = "anonFaultGranule";
    static final long DEFAULT_GRANULE = 2L << 20;

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "range-locked address space (Lespinasse, LPC 2019): faults lock a 2 MiB block or their VMA, syscalls their range";
    }

    @Override
    public List<StrategyOption> options() {
        return List.of(
                StrategyOption.choice(IMPL, "tree", "range lock: tree = interval tree, FIFO among overlapping requests "
                        + "(Kara 2013, Bueso 2017); list = lock-free list (Kogan, Dice, Issa 2020), writers can starve",
                        "tree", "list"),
                StrategyOption.integer(GRANULE, DEFAULT_GRANULE,
                        "bytes an anonymous fault locks: the aligned block around the address, clipped to the VMA"));
    }

    /**
     * {@inheritDoc}
     *
     * @throws IllegalArgumentException when {@code anonFaultGranule} is not a power of two of at least a page
     */
    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        long granule = config.integer(GRANULE);
        if (granule < Linux.PAGE_SIZE || Long.bitCount(granule) != 1) {
            throw new IllegalArgumentException(NAME + ": option " + GRANULE + " must be a power of two of at least "
                    + Linux.PAGE_SIZE + " bytes, got " + granule);
        }
        RangeLock lock = "list".equals(config.get(IMPL)) ? new ListRangeLock() : new TreeRangeLock();
        return new RangeLockInstance(lock, granule, context).parts();
    }
}
