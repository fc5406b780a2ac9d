package dev.mmlab.drivers;

import dev.mmlab.api.Access;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.VmOpsProvider;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.PageAllocator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Shared anonymous memory ({@code shmem}, what {@code MAP_SHARED | MAP_ANONYMOUS} maps) through the driver
 * interface: one shmem object per driver instance, zero-filled, its pages in the object's page cache. Every
 * callback is {@link LockNeed#FINE}. As in Linux the object lives while something maps it: when the last
 * VMA goes, the engine frees its pages, and a later mapping starts from zeros.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The shmem object is made once by the {@link PageCacheBinding}'s CAS; its
 *       pages live in its page cache (per-entry atomic updates) and its lifetime is the file's mapping count.
 *       Inode numbers come from a static {@link AtomicLong}. Every callback is declared {@link LockNeed#FINE}:
 *       nothing here relies on an mm lock.</li>
 *   <li><b>Lock order.</b> none of its own: {@code fault} runs under whatever covers the VMA, never under a
 *       PTL, and sleeps only in the allocator.</li>
 * </ul>
 */
public final class SharedMemoryDriver implements VmOps {
    public static final String NAME = "shmem";

    private static final AtomicLong NEXT_INODE = new AtomicLong(0x5000_0000L);

    private final PageCacheBinding binding;

    /** @param sizeBytes size of the shmem object; pages beyond it fault with SIGBUS */
    public SharedMemoryDriver(long sizeBytes) {
        long inode = NEXT_INODE.getAndIncrement();
        this.binding = new PageCacheBinding(NAME, allocator -> BackingFile.shmem(inode, sizeBytes, allocator));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public LockNeed lockNeed(VmOpsCallback callback) {
        return LockNeed.FINE;
    }

    /** Makes the shmem object on first use with {@code allocator}. Any lock or none. */
    @Override
    public BackingFile vmFile(PageAllocator allocator) {
        return binding.fileFor(allocator);
    }

    /** The shmem object, or null before the first mmap. */
    public BackingFile file() {
        return binding.file();
    }

    /** Any lock covering the VMA; does not sleep except in the allocator. */
    @Override
    public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
        return binding.fault(vma, addr);
    }

    /** The {@code shmem} provider: {@code size}. */
    public static final class Provider implements VmOpsProvider {
        static final Map<String, String> DEFAULTS = Map.of("size", "16m");

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String description() {
            return "shared anonymous memory (one shmem object per driver instance); every callback FINE";
        }

        @Override
        public VmOps create(Map<String, String> parameters) {
            return new SharedMemoryDriver(DriverParams.of(NAME, DEFAULTS, parameters).size("size"));
        }
    }
}
