package dev.mmlab.drivers;

import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.PageAllocator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A regular file mapped through the driver interface: pages come from the file's page cache, a miss reads the
 * block device (sleeping for its latency), as {@code filemap_fault} does. Every callback is declared
 * {@link LockNeed#FINE}: the page cache has its own locking and needs nothing of the mm. The engine serves
 * plain file mappings natively; this driver lets a scenario map a file through the driver SPI.
 *
 * <p>Unlike the native path a fault here never drops its lock for I/O (drivers have no fault retry), so
 * under a coarse lock a miss holds the mmap read lock for the whole device latency.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The file and its pages: the page cache (per-entry atomic updates) and the
 *       {@link PageCacheDriver}'s CAS, which makes the file once. Inode numbers come from a static
 *       {@link AtomicLong}. Every callback is declared {@link LockNeed#FINE}: nothing here relies on an mm
 *       lock.</li>
 *   <li><b>Lock order.</b> none of its own: {@code fault} runs under whatever covers the VMA (a VMA lock, a
 *       range, the mmap read lock) and may sleep on the device with it held, never under a PTL.</li>
 * </ul>
 */
public final class PageCacheFileDriver extends PageCacheDriver {
    public static final String NAME = "pagecache-file";

    /** Inodes of driver files, far from the engine's own numbering. */
    private static final AtomicLong NEXT_INODE = new AtomicLong(0x4000_0000L);

    /**
     * @param path the file's name in /proc/pid/maps
     * @param sizeBytes the file size; pages beyond it fault with SIGBUS
     * @param device what a page-cache miss reads from
     */
    public PageCacheFileDriver(String path, long sizeBytes, BlockDevice device) {
        super(NAME, file(path, NEXT_INODE.getAndIncrement(), sizeBytes, device));
    }

    private static Function<PageAllocator, BackingFile> file(String path, long inode, long sizeBytes, BlockDevice device) {
        return allocator -> BackingFile.regular(path, inode, sizeBytes, device, allocator);
    }

    /** The {@code pagecache-file} provider: {@code size}, {@code latency}, {@code errorRate}, {@code path}, {@code seed}. */
    public static final class Provider extends ShippedProvider {
        public Provider() {
            super(NAME, "a file served from its page cache through the driver SPI; every callback FINE", Map.of(
                    "size", "16m", "latency", "0ns", "errorRate", "0", "path", "/data/pagecache-file", "seed", "1"));
        }

        @Override
        VmOps create(DriverParams p) {
            BlockDevice device = new BlockDevice(NAME, 8, 32, p.latency("latency"), p.probability("errorRate"),
                    p.integer("seed"));
            return new PageCacheFileDriver(p.string("path"), p.size("size"), device);
        }
    }
}
