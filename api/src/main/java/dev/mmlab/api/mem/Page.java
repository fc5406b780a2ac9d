package dev.mmlab.api.mem;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A physical page: one content word (so a lost write is detectable), a reference count, and where it came
 * from. References are held by page-table entries, by a file's page cache, by get_user_pages pins and,
 * briefly, by a fault that prepared the page but has not committed it yet. The page returns to its
 * allocator when the count reaches zero.
 *
 * <p>{@link #ZERO} is the shared zero page: never counted, never freed, never written.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The reference count is an {@link AtomicInteger}; {@link #get} requires a
 *       reference (or the page cache's entry) already held, so it never resurrects a freed page, and the
 *       decrement that reaches zero frees the page, exactly once. The content word and the dirty bit are
 *       volatile; {@link #setContent} is called under the PTL of a PTE that maps the page writable, or by the
 *       page's only owner before it is mapped.</li>
 *   <li><b>Lock order.</b> none of its own: the last {@link #put} calls the allocator's free, a removal from a
 *       concurrent set that takes no mm lock, so a page may be put under a PTL or inside a page-cache entry
 *       update.</li>
 *   <li><b>What a reader may see mid-update.</b> {@code content} is one volatile word, never torn; read
 *       without the PTL it may be stale, which is why the fault engine's copy-on-write reads it once to
 *       allocate the copy and copies it again under the PTL before it commits.</li>
 * </ul>
 */
public final class Page {
    public enum Kind { ANON, FILE, ZERO, DEVICE }

    public static final Page ZERO = new Page(null, Kind.ZERO, null, 0, 0);

    private final PageAllocator allocator;
    private final Kind kind;
    private final BackingFile file;
    private final long index;
    private final AtomicInteger refcount = new AtomicInteger(1);
    private volatile long content;
    private volatile boolean dirty;

    Page(PageAllocator allocator, Kind kind, BackingFile file, long index, long content) {
        this.allocator = allocator;
        this.kind = kind;
        this.file = file;
        this.index = index;
        this.content = content;
    }

    public Kind kind() {
        return kind;
    }

    /** The file whose page cache holds this page, or null. */
    public BackingFile file() {
        return file;
    }

    /** Page index in {@link #file()}. */
    public long index() {
        return index;
    }

    public long content() {
        return content;
    }

    /** Store the content word. Callers hold the PTL of a PTE mapping this page writable, or own the page. */
    public void setContent(long value) {
        if (kind == Kind.ZERO) {
            throw new IllegalStateException("write to the zero page");
        }
        content = value;
        dirty = true;
    }

    public boolean isDirty() {
        return dirty;
    }

    public int refcount() {
        return kind == Kind.ZERO ? Integer.MAX_VALUE : refcount.get();
    }

    /** {@code get_page}: take a reference. The caller must already hold one (or the page cache's lock). */
    public Page get() {
        if (kind != Kind.ZERO) {
            int before = refcount.getAndIncrement();
            if (before <= 0) {
                throw new IllegalStateException("get on a freed page " + this);
            }
        }
        return this;
    }

    /** {@code put_page}: drop a reference; the last one frees the page. */
    public void put() {
        if (kind == Kind.ZERO) {
            return;
        }
        int after = refcount.decrementAndGet();
        if (after == 0) {
            allocator.free(this);
        } else if (after < 0) {
            throw new IllegalStateException("put on a freed page " + this);
        }
    }

    @Override
    public String toString() {
        return kind == Kind.ZERO ? "Page[zero]"
                : "Page[" + kind + (file != null ? " " + file.path() + "#" + index : "") + " ref=" + refcount.get()
                        + "]";
    }
}
