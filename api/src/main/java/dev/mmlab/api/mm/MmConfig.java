package dev.mmlab.api.mm;

import dev.mmlab.api.Linux;
import dev.mmlab.api.mem.PageAllocator;
import java.util.Objects;

/**
 * How an address space is set up: its page allocator (shared between the address spaces of one machine,
 * so forks and page caches account together), the top of the mmap area, where brk starts, and whether lock
 * assertions are checked.
 *
 * @param allocator the physical memory
 * @param mmapBase top of the top-down mmap area (below the stack)
 * @param startBrk where the heap starts
 * @param stackTop end of the initial stack VMA
 * @param checking whether driver lock assertions and engine self-checks are on
 */
public record MmConfig(PageAllocator allocator, long mmapBase, long startBrk, long stackTop, boolean checking) {
    public static final long DEFAULT_MMAP_BASE = 0x7f0000000000L;
    public static final long DEFAULT_START_BRK = 0x555555600000L;
    public static final long DEFAULT_STACK_TOP = 0x7ffffffff000L;

    public MmConfig {
        Objects.requireNonNull(allocator);
        if (!Linux.isPageAligned(mmapBase) || mmapBase <= Linux.MMAP_MIN_ADDR || mmapBase > Linux.TASK_SIZE) {
            throw new IllegalArgumentException("mmapBase must be page aligned within user space");
        }
    }

    /** Defaults with a fresh unlimited allocator, checking on. */
    public static MmConfig defaults() {
        return new MmConfig(new PageAllocator(), DEFAULT_MMAP_BASE, DEFAULT_START_BRK, DEFAULT_STACK_TOP, true);
    }

    public MmConfig withAllocator(PageAllocator newAllocator) {
        return new MmConfig(newAllocator, mmapBase, startBrk, stackTop, checking);
    }

    public MmConfig withChecking(boolean on) {
        return new MmConfig(allocator, mmapBase, startBrk, stackTop, on);
    }

    public MmConfig withMmapBase(long base) {
        return new MmConfig(allocator, base, startBrk, stackTop, checking);
    }
}
