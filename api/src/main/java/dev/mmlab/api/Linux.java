package dev.mmlab.api;

/**
 * The constants of the modelled ABI: x86-64, 4 KiB pages, 47-bit user space, and the flag values a real
 * program passes (so traces replay with their recorded numbers).
 */
public final class Linux {
    private Linux() {}

    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    public static final long PAGE_MASK = ~(PAGE_SIZE - 1);
    /** Top of user space: {@code TASK_SIZE_MAX} for 4-level paging, 128 TiB minus one page. */
    public static final long TASK_SIZE = (1L << 47) - PAGE_SIZE;
    /** {@code vm.mmap_min_addr} default. */
    public static final long MMAP_MIN_ADDR = 64 * 1024;
    /** Span of one PMD entry (one page-table page): the anon fault granule of range locking. */
    public static final long PMD_SIZE = 2L << 20;

    // prot
    public static final int PROT_NONE = 0x0;
    public static final int PROT_READ = 0x1;
    public static final int PROT_WRITE = 0x2;
    public static final int PROT_EXEC = 0x4;
    public static final int PROT_SEM = 0x8;
    public static final int PROT_GROWSDOWN = 0x01000000;
    public static final int PROT_GROWSUP = 0x02000000;

    // mmap flags
    public static final int MAP_SHARED = 0x01;
    public static final int MAP_PRIVATE = 0x02;
    public static final int MAP_SHARED_VALIDATE = 0x03;
    public static final int MAP_TYPE = 0x0f;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_32BIT = 0x40;
    public static final int MAP_GROWSDOWN = 0x100;
    public static final int MAP_DENYWRITE = 0x800;
    public static final int MAP_EXECUTABLE = 0x1000;
    public static final int MAP_LOCKED = 0x2000;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_POPULATE = 0x8000;
    public static final int MAP_NONBLOCK = 0x10000;
    public static final int MAP_STACK = 0x20000;
    public static final int MAP_HUGETLB = 0x40000;
    public static final int MAP_SYNC = 0x80000;
    public static final int MAP_FIXED_NOREPLACE = 0x100000;
    /** Every flag MAP_SHARED_VALIDATE accepts (LEGACY_MAP_MASK plus MAP_SYNC handling). */
    public static final int MAP_KNOWN = MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_32BIT | MAP_GROWSDOWN
            | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK
            | MAP_STACK | MAP_HUGETLB | MAP_FIXED_NOREPLACE;

    // mremap flags
    public static final int MREMAP_MAYMOVE = 1;
    public static final int MREMAP_FIXED = 2;
    public static final int MREMAP_DONTUNMAP = 4;

    // madvise behaviours
    public static final int MADV_NORMAL = 0;
    public static final int MADV_RANDOM = 1;
    public static final int MADV_SEQUENTIAL = 2;
    public static final int MADV_WILLNEED = 3;
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_FREE = 8;
    public static final int MADV_REMOVE = 9;
    public static final int MADV_DONTFORK = 10;
    public static final int MADV_DOFORK = 11;
    public static final int MADV_MERGEABLE = 12;
    public static final int MADV_UNMERGEABLE = 13;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_NOHUGEPAGE = 15;
    public static final int MADV_DONTDUMP = 16;
    public static final int MADV_DODUMP = 17;
    public static final int MADV_WIPEONFORK = 18;
    public static final int MADV_KEEPONFORK = 19;
    public static final int MADV_COLD = 20;
    public static final int MADV_PAGEOUT = 21;
    public static final int MADV_POPULATE_READ = 22;
    public static final int MADV_POPULATE_WRITE = 23;

    // mlock2 / mlockall
    public static final int MLOCK_ONFAULT = 0x01;
    public static final int MCL_CURRENT = 1;
    public static final int MCL_FUTURE = 2;
    public static final int MCL_ONFAULT = 4;

    public static boolean isPageAligned(long value) {
        return (value & ~PAGE_MASK) == 0;
    }

    /** {@code PAGE_ALIGN}: round up to a page; wraps to a small number on overflow, as in C. */
    public static long pageAlign(long value) {
        return (value + PAGE_SIZE - 1) & PAGE_MASK;
    }

    public static long pages(long bytes) {
        return bytes >>> PAGE_SHIFT;
    }

    /** Half-open ranges {@code [aStart, aEnd)} and {@code [bStart, bEnd)} share an address. */
    public static boolean overlaps(long aStart, long aEnd, long bStart, long bEnd) {
        return aStart < bEnd && bStart < aEnd;
    }

    public static String hex(long value) {
        return "0x" + Long.toHexString(value);
    }
}
