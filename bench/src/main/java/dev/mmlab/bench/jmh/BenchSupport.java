package dev.mmlab.bench.jmh;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.VmFlags;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.bench.run.UnsafeNoLockStrategy;
import java.util.ArrayList;
import java.util.List;

/**
 * What the JMH benchmarks share: an address space under a strategy named as discovered (or unsafe-nolock),
 * with checking off as a production kernel runs, and a background of many VMAs.
 */
public final class BenchSupport {
    /** Where background VMAs go: far from the regions the benchmarks work in. */
    static final long BACKGROUND_BASE = 0x2000_0000_0000L;
    /** Where a benchmark's own region goes. */
    static final long WORK_BASE = 0x1000_0000_0000L;

    private BenchSupport() {}

    /** A fresh address space under {@code strategy} (a spec such as {@code rwsem:faultRetry=false}). */
    public static Mm newMm(String strategy) {
        MmConfig config = MmConfig.defaults().withChecking(false);
        if (strategy.equals(UnsafeNoLockStrategy.NAME)) {
            UnsafeNoLockStrategy s = new UnsafeNoLockStrategy();
            return Mm.create(s, StrategyConfig.of(s.name(), s.options(), java.util.Map.of()), config);
        }
        return Mm.create(Strategies.discover().select(strategy), config);
    }

    /** Up to this many background VMAs are made with real mmaps; more are inserted into the tree at once. */
    static final int REAL_MMAP_LIMIT = 1000;

    /**
     * Maps {@code count} one-page VMAs two pages apart with alternating protections, so none merges: the address
     * space of a large process. Up to {@value #REAL_MMAP_LIMIT} they are real mmaps; beyond that one
     * {@code VmaTree.replace} inserts them all, because each mmap into the snapshot VMA tree copies the whole
     * array (O(n)) and 100,000 mmaps take minutes. The result is the same tree of anonymous, never-faulted VMAs,
     * each with the strategy's per-VMA state; the benchmarks never touch them, they only make lookups deeper.
     */
    public static void backgroundVmas(Mm mm, int count) {
        if (count <= REAL_MMAP_LIMIT) {
            for (int i = 0; i < count; i++) {
                mm.mmapAnon(BACKGROUND_BASE + 2L * i * PAGE_SIZE, PAGE_SIZE,
                        (i & 1) == 0 ? PROT_READ : PROT_READ | PROT_WRITE, MAP_FIXED);
            }
            return;
        }
        List<Vma> vmas = new ArrayList<>(count);
        long may = VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC;
        for (int i = 0; i < count; i++) {
            long start = BACKGROUND_BASE + 2L * i * PAGE_SIZE;
            long flags = may | VmFlags.VM_READ | ((i & 1) == 0 ? 0 : VmFlags.VM_WRITE);
            vmas.add(new Vma(start, start + PAGE_SIZE, flags, start >>> PAGE_SHIFT, null, null, null,
                    mm.parts().newVmaState()));
        }
        try (MmLockGuard guard = mm.mmLock().lock(LockIntent.coarse(OpKind.MMAP, LockIntent.Mode.WRITE, 0, TASK_SIZE))) {
            mm.tree().replace(guard, List.of(), vmas);
        }
    }
}
