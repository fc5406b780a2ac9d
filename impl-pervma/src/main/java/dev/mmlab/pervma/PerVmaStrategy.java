package dev.mmlab.pervma;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.sync.CoarseMmapLock;
import dev.mmlab.pervma.lock.RefcountVmaLock;
import dev.mmlab.pervma.lock.RwsemVmaLock;
import dev.mmlab.pervma.lock.VmaLock;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Per-VMA locks as merged in Linux 6.4 ({@code CONFIG_PER_VMA_LOCK}): page faults lock only the VMA they
 * fault in, found without the mmap lock; syscalls keep the mmap write lock and write-lock each VMA they
 * change, all unlocked at once when the mmap write lock is released. Options: {@code lock=rwsem} (6.4: an
 * rwsem and a detached flag per VMA) or {@code refcount} (6.15: one reference count), {@code mapsUnderVmaLock}
 * (6.17: /proc/pid/maps reads VMA by VMA under VMA read locks), {@code madviseUnderVmaLock} (6.18: madvise
 * DONTNEED and FREE within one VMA under its read lock), and the mmap lock's switches as in
 * {@code rwsem}, used by syscalls and by faults that fall back.
 */
public final class PerVmaStrategy implements LockingStrategy {
    public static final String NAME = "pervma";
    static final String MADVISE_UNDER_VMA_LOCK = "madviseUnderVmaLock";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "per-VMA locks as in Linux 6.4 (rwsem form) and 6.15 (refcount form), /proc/pid/maps under VMA locks (6.17), "
                + "madvise DONTNEED/FREE under VMA locks (6.18)";
    }

    @Override
    public List<StrategyOption> options() {
        List<StrategyOption> options = new ArrayList<>();
        options.add(StrategyOption.choice("lock", "refcount", "the per-VMA lock: rwsem (6.4: rwsem + detached flag) or "
                + "refcount (6.15: one vm_refcnt)", "rwsem", "refcount"));
        options.add(StrategyOption.bool("mapsUnderVmaLock", true, "/proc/pid/maps and smaps read VMA by VMA under VMA "
                + "read locks, falling back to the mmap read lock for a write-locked VMA (6.17)"));
        options.add(StrategyOption.bool(MADVISE_UNDER_VMA_LOCK, true, "madvise DONTNEED and FREE on a range inside one "
                + "VMA run under that VMA's read lock, falling back to the mmap read lock when the range spans VMAs "
                + "or the VMA is write-locked (6.18 mm/madvise.c: madvise_lock, get_lock_mode, try_vma_read_lock); "
                + "not modelled: MADV_DONTNEED_LOCKED (no such advice in the engine), userfaultfd, remote mms"));
        options.addAll(CoarseMmapLock.options());
        options.add(StrategyOption.bool("forkVmaLocking", true, "fork write-locks every parent VMA before copying it "
                + "(the 6.4 fix for the fork/COW corruption; false is unsafe and only for measuring its cost)"));
        return options;
    }

    /** One address space's parts. Thread-safe; does not block. */
    @Override
    public StrategyInstance create(StrategyConfig config, MmContext context) {
        Supplier<VmaLock> locks = "rwsem".equals(config.get("lock")) ? RwsemVmaLock::new : RefcountVmaLock::new;
        return new PerVmaInstance(locks, config, context);
    }
}
