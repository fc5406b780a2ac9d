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
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.PageAllocator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

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
 *       {@link PageCacheBinding}'s CAS, which makes the file once. Inode numbers come from a static
 *       {@link AtomicLong}. Every callback is declared {@link LockNeed#FINE}: nothing here relies on an mm
 *       lock.</li>
 *   <li><b>Lock order.</b> none of its own: {@code fault} runs under whatever covers the VMA (a VMA lock, a
 *       range, the mmap read lock) and may sleep on the device with it held, never under a PTL.</li>
 * </ul>
 */
public final class PageCacheFileDriver implements VmOps {
    public static final String NAME = "pagecache-file";

    /** Inodes of driver files, far from the engine's own numbering. */
    private static final AtomicLong NEXT_INODE = new AtomicLong(0x4000_0000L);

    private final PageCacheBinding binding;

    /**
     * @param path the file's name in /proc/pid/maps
     * @param sizeBytes the file size; pages beyond it fault with SIGBUS
     * @param device what a page-cache miss reads from
     */
    public PageCacheFileDriver(String path, long sizeBytes, BlockDevice device) {
        long inode = NEXT_INODE.getAndIncrement();
        this.binding = new PageCacheBinding(NAME,
                allocator -> BackingFile.regular(path, inode, sizeBytes, device, allocator));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public LockNeed lockNeed(VmOpsCallback callback) {
        return LockNeed.FINE;
    }

    /** Makes the file on first use with {@code allocator}. Any lock or none. */
    @Override
    public BackingFile vmFile(PageAllocator allocator) {
        return binding.fileFor(allocator);
    }

    /** The file, or null before the first mmap. */
    public BackingFile file() {
        return binding.file();
    }

    /** Any lock covering the VMA; may sleep on the device. */
    @Override
    public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
        return binding.fault(vma, addr);
    }

    /** The {@code pagecache-file} provider: {@code size}, {@code latency}, {@code errorRate}, {@code path}, {@code seed}. */
    public static final class Provider implements VmOpsProvider {
        static final Map<String, String> DEFAULTS = defaults();

        private static Map<String, String> defaults() {
            Map<String, String> d = new LinkedHashMap<>();
            d.put("size", "16m");
            d.put("latency", "0ns");
            d.put("errorRate", "0");
            d.put("path", "/data/pagecache-file");
            d.put("seed", "1");
            return d;
        }

        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String description() {
            return "a file served from its page cache through the driver SPI; every callback FINE";
        }

        @Override
        public VmOps create(Map<String, String> parameters) {
            DriverParams p = DriverParams.of(NAME, DEFAULTS, parameters);
            BlockDevice device = new BlockDevice(NAME, 8, 32, p.latency("latency"), p.probability("errorRate"),
                    p.integer("seed"));
            return new PageCacheFileDriver(p.string("path"), p.size("size"), device);
        }
    }
}
