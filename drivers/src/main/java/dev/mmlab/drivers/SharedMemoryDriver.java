package dev.mmlab.drivers;

import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.PageAllocator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Shared anonymous memory ({@code shmem}, what {@code MAP_SHARED | MAP_ANONYMOUS} maps) through the driver
 * interface: one shmem object per driver instance, zero-filled, its pages in the object's page cache. Every
 * callback is {@link LockNeed#FINE}. As in Linux the object lives while something maps it: when the last
 * VMA goes, the engine frees its pages, and a later mapping starts from zeros.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The shmem object is made once by the {@link PageCacheDriver}'s CAS; its
 *       pages live in its page cache (per-entry atomic updates) and its lifetime is the file's mapping count.
 *       Inode numbers come from a static {@link AtomicLong}. Every callback is declared {@link LockNeed#FINE}:
 *       nothing here relies on an mm lock.</li>
 *   <li><b>Lock order.</b> none of its own: {@code fault} runs under whatever covers the VMA, never under a
 *       PTL, and sleeps only in the allocator.</li>
 * </ul>
 */
public final class SharedMemoryDriver extends PageCacheDriver {
    public static final String NAME = "shmem";

    private static final AtomicLong NEXT_INODE = new AtomicLong(0x5000_0000L);

    /** @param sizeBytes size of the shmem object; pages beyond it fault with SIGBUS */
    public SharedMemoryDriver(long sizeBytes) {
        super(NAME, shmem(NEXT_INODE.getAndIncrement(), sizeBytes));
    }

    private static Function<PageAllocator, BackingFile> shmem(long inode, long sizeBytes) {
        return allocator -> BackingFile.shmem(inode, sizeBytes, allocator);
    }

    /** The {@code shmem} provider: {@code size}. */
    public static final class Provider extends ShippedProvider {
        public Provider() {
            super(NAME, "shared anonymous memory (one shmem object per driver instance); every callback FINE",
                    Map.of("size", "16m"));
        }

        @Override
        VmOps create(DriverParams p) {
            return new SharedMemoryDriver(p.size("size"));
        }
    }
}
