package dev.mmlab.api.mem;

import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.Linux;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One file's page cache. An entry is either an up-to-date {@link Page} (the cache holds one reference) or
 * a read in flight; concurrent misses on one index wait for the same read, as on a locked page. Eviction
 * writes a dirty page's content back to the file's "disk" first, so nothing is lost. Thread-safe: each
 * index is changed atomically through {@link ConcurrentHashMap#compute}; no mm lock is taken.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Each index's entry (a page or a read in flight) is changed only through
 *       the map's per-entry atomic operations, which also take the cache's reference count step
 *       ({@link Page#get} in {@link #find}, {@link Page#put} in eviction). The first miss installs a
 *       {@code Reading} with {@code putIfAbsent} and reads the page with no lock held; later misses on that
 *       index park through the seam until it finishes, also holding nothing. The "disk" (what eviction wrote back) is a
 *       concurrent map of content words.</li>
 *   <li><b>Lock order.</b> page-cache entry &rarr; the allocator's live set (an entry update may free a page);
 *       callers may hold a PTL around a lookup (the engine's order is PTL &rarr; page cache), so the cache
 *       never takes an mm lock or a PTL. The device read and the wait on another thread's read run outside
 *       every entry update.</li>
 *   <li><b>What a reader may see mid-update.</b> An index is either absent, in flight or up to date; a failed
 *       read removes its {@code Reading} and finishes it with the error, so its waiters get the same errno.</li>
 * </ul>
 */
public final class PageCache {
    private final BackingFile file;
    private final PageAllocator allocator;
    private final ConcurrentHashMap<Long, Object> entries = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<Long, Long> disk = new ConcurrentHashMap<>();
    private final AtomicLong misses = new AtomicLong();

    PageCache(BackingFile file, PageAllocator allocator) {
        this.file = file;
        this.allocator = allocator;
    }

    /** {@code find_get_page}: the cached page with a reference for the caller, or null. Never blocks. */
    public Page find(long index) {
        Page[] found = new Page[1];
        entries.computeIfPresent(index, (k, v) -> {
            if (v instanceof Page) {
                found[0] = ((Page) v).get();
            }
            return v;
        });
        return found[0];
    }

    /**
     * The page at {@code index} with a reference for the caller, reading it from the device on a miss. Sleeps
     * for the device latency (or for another thread's read of the same page).
     *
     * @throws ErrnoException EIO when the device fails the read, ENOMEM when no page can be allocated
     */
    public Page read(long index) {
        while (true) {
            Page page = find(index);
            if (page != null) {
                return page;
            }
            Reading mine = new Reading();
            Object existing = entries.putIfAbsent(index, mine);
            if (existing == null) {
                misses.incrementAndGet();
                fill(index, mine);
            } else if (existing instanceof Reading) {
                ((Reading) existing).await();
            }
        }
    }

    private void fill(long index, Reading pending) {
        try {
            if (file.device() != null && !file.device().readPage()) {
                throw ErrnoException.of(Errno.EIO, "I/O error reading page %d of %s from %s", index, file.path(),
                        file.device().name());
            }
            Page page = allocator.allocateFile(file, index, disk.getOrDefault(index, file.initialContent(index)));
            if (page == null) {
                throw ErrnoException.of(Errno.ENOMEM, "no memory for page %d of %s", index, file.path());
            }
            entries.put(index, page);
            pending.finish(null);
        } catch (RuntimeException e) {
            entries.remove(index, pending);
            pending.finish(e);
            throw e;
        }
    }

    /**
     * A read in flight ({@code PG_locked} on a page being read): the first miss reads, later misses on the same
     * index park through the seam until it finishes, then get the same page or the same errno.
     */
    private static final class Reading {
        private final ConcurrentLinkedQueue<Thread> waiters = new ConcurrentLinkedQueue<>();
        private volatile boolean done;
        private volatile RuntimeException failure;

        /** The read ended ({@code failure} null: the page is in the cache); wake every waiter. */
        void finish(RuntimeException error) {
            failure = error;
            done = true;
            waiters.forEach(Sched::unpark);
        }

        /** Wait until the read ends. Holds nothing while it waits. */
        void await() {
            Thread me = Thread.currentThread();
            waiters.add(me);
            try {
                while (!done) {
                    Sched.park(this);
                }
            } finally {
                waiters.remove(me);
            }
            RuntimeException e = failure;
            if (e instanceof ErrnoException) {
                ErrnoException err = (ErrnoException) e;
                throw new ErrnoException(err.errno(), err.getMessage().substring(err.errno().name().length() + 2), err);
            }
            if (e != null) {
                throw e;
            }
        }
    }

    /** Whether page {@code index} is cached and up to date (no I/O would be needed). */
    public boolean isCached(long index) {
        return entries.get(index) instanceof Page;
    }

    /**
     * Drops every cached page nobody maps (refcount 1: only the cache), writing dirty ones back first.
     * Shmem pages are never dropped: the cache is their only copy. Returns how many were dropped.
     */
    public int evictUnmapped() {
        if (file.isShmem()) {
            return 0;
        }
        int[] dropped = new int[1];
        for (Long index : new ArrayList<>(entries.keySet())) {
            entries.computeIfPresent(index, (k, v) -> {
                if (v instanceof Page && ((Page) v).refcount() == 1) {
                    Page page = (Page) v;
                    if (page.isDirty()) {
                        disk.put(k, page.content());
                    }
                    page.put();
                    dropped[0]++;
                    return null;
                }
                return v;
            });
        }
        return dropped[0];
    }

    /**
     * {@code fallocate(FALLOC_FL_PUNCH_HOLE)} of pages {@code [first, end)}: they leave the cache and read back as
     * zeros. A page some PTE still maps keeps that mapper's reference (the caller unmaps what it can); a read in
     * flight is left to finish. Never blocks.
     */
    public void punchHole(long first, long end) {
        for (Long index : new ArrayList<>(entries.keySet())) {
            if (index < first || index >= end) {
                continue;
            }
            entries.computeIfPresent(index, (k, v) -> {
                if (v instanceof Page) {
                    ((Page) v).put();
                    return null;
                }
                return v;
            });
        }
        if (!file.isShmem()) {
            long last = Math.min(end, Linux.pages(Linux.pageAlign(file.sizeBytes())));
            for (long i = first; i < last; i++) {
                disk.put(i, 0L);
            }
        }
    }

    /** Drops every page regardless of mappers' references (the file is going away); for teardown. */
    public void clear() {
        for (Long index : new ArrayList<>(entries.keySet())) {
            entries.computeIfPresent(index, (k, v) -> {
                if (v instanceof Page) {
                    ((Page) v).put();
                    return null;
                }
                return v;
            });
        }
    }

    /** Cached pages (a snapshot), for the invariant checker. */
    public List<Page> pages() {
        List<Page> pages = new ArrayList<>();
        for (Object v : entries.values()) {
            if (v instanceof Page) {
                pages.add((Page) v);
            }
        }
        return pages;
    }

    public BackingFile file() {
        return file;
    }

    public long missCount() {
        return misses.get();
    }
}
