package dev.mmlab.api.mem;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An inode that can be mapped: a regular file on a {@link BlockDevice}, or a shmem object (shared anonymous
 * memory, shown as {@code /dev/zero (deleted)}). Owns its {@link PageCache}. Thread-safe.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Identity, size and device are final. {@code mappings}, the number of VMAs
 *       mapping the file in every address space that maps it, is an {@link AtomicInteger}: the engine counts a
 *       VMA in when it publishes it and out after it has zapped its range, under the guard of the address space
 *       concerned, and guards of different address spaces do not exclude each other. In one commit the new
 *       VMAs are counted before the removed ones, so a VMA replaced by its pieces never takes the count through
 *       zero. The page cache has its own rules ({@link PageCache}).</li>
 *   <li><b>Lock order.</b> none of its own: the decrement that frees a shmem object's pages runs the cache's
 *       per-entry updates, under whatever the caller holds (its guard, no PTL).</li>
 * </ul>
 */
public final class BackingFile {
    /** Device numbers /proc/pid/maps shows for shmem ({@code 00:01}, the internal tmpfs). */
    public static final int SHMEM_MAJOR = 0;
    public static final int SHMEM_MINOR = 1;

    private final String path;
    private final long inode;
    private final long sizeBytes;
    private final BlockDevice device;
    private final PageCache cache;
    private final AtomicInteger mappings = new AtomicInteger();

    private BackingFile(String path, long inode, long sizeBytes, BlockDevice device, PageAllocator allocator) {
        this.path = Objects.requireNonNull(path);
        this.inode = inode;
        this.sizeBytes = sizeBytes;
        this.device = device;
        this.cache = new PageCache(this, allocator);
    }

    /** A regular file of {@code sizeBytes} on {@code device}. */
    public static BackingFile regular(String path, long inode, long sizeBytes, BlockDevice device,
            PageAllocator allocator) {
        return new BackingFile(path, inode, sizeBytes, Objects.requireNonNull(device), allocator);
    }

    /** The shmem object behind a MAP_SHARED|MAP_ANONYMOUS mapping of {@code sizeBytes}. */
    public static BackingFile shmem(long inode, long sizeBytes, PageAllocator allocator) {
        return new BackingFile("/dev/zero (deleted)", inode, sizeBytes, null, allocator);
    }

    public String path() {
        return path;
    }

    public long inode() {
        return inode;
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    /** Null for shmem. */
    public BlockDevice device() {
        return device;
    }

    public boolean isShmem() {
        return device == null;
    }

    public int major() {
        return device == null ? SHMEM_MAJOR : device.major();
    }

    public int minor() {
        return device == null ? SHMEM_MINOR : device.minor();
    }

    public PageCache cache() {
        return cache;
    }

    /** A VMA mapping this file was published. */
    public void vmaAdded() {
        mappings.incrementAndGet();
    }

    /**
     * A VMA mapping this file went away. When the last one of a shmem object goes, the object is freed with
     * its pages (nothing else can reach them).
     */
    public void vmaRemoved() {
        if (mappings.decrementAndGet() == 0 && isShmem()) {
            cache.clear();
        }
    }

    /** What page {@code index} holds on disk before anyone wrote it: distinct per file and page. */
    long initialContent(long index) {
        return isShmem() ? 0 : (inode << 32) ^ (index + 1);
    }

    @Override
    public String toString() {
        return path + " (inode " + inode + ")";
    }
}
