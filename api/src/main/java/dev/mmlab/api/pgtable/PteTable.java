package dev.mmlab.api.pgtable;

import dev.mmlab.api.Linux;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.sync.Mutex;
import java.util.function.Function;

/**
 * The last level of a page table: 512 PTEs covering one 2 MiB-aligned span, with its own lock (split PTL).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Every mutable field (the pages, the PTE bits, the present count, the
 *       detached flag) is guarded by {@link #ptl()}: a fault commits under it, zap and mprotect change under
 *       it, the CPU's access to a mapped page happens under it. The accessors assert that the caller holds it.
 *       A table freed by {@code free_pgtables} is {@linkplain #isDetached() detached}: whoever locks it
 *       afterwards must walk again (and a speculative fault aborts with {@code pmd_changed}).</li>
 *   <li><b>Lock order.</b> the strategy's lock (or a validating fault holding none) &rarr; the PTL; at most
 *       one PTL per address space, and a body run under it must not block on anything else. The engine never
 *       waits for the strategy's lock with a PTL held, and never calls a driver, allocates a page or reads a
 *       file under it.</li>
 * </ul>
 */
public final class PteTable {
    public static final int ENTRIES = 512;
    /** The PTE allows reads. */
    public static final int READ = 1;
    /** The PTE allows writes. */
    public static final int WRITE = 2;
    public static final int DIRTY = 4;
    public static final int ACCESSED = 8;

    private final long base;
    private final Mutex ptl = new Mutex();
    private final Page[] pages = new Page[ENTRIES];
    private final byte[] bits = new byte[ENTRIES];
    private int present;
    private boolean detached;

    PteTable(long base) {
        this.base = base;
    }

    /** The first address this table maps. */
    public long base() {
        return base;
    }

    public Mutex ptl() {
        return ptl;
    }

    /**
     * Run {@code body} with this table's PTL held and return its result. The one place the engine takes a PTL,
     * so every PTE access goes through it. May block on the PTL; {@code body} must not block on anything else.
     */
    public <T> T withPtl(Function<PteTable, T> body) {
        ptl.lock();
        try {
            return body.apply(this);
        } finally {
            ptl.unlock();
        }
    }

    public static int index(long addr) {
        return (int) ((addr >>> Linux.PAGE_SHIFT) & (ENTRIES - 1));
    }

    public long addressOf(int index) {
        return base + ((long) index << Linux.PAGE_SHIFT);
    }

    /** The page mapped at {@code addr}, or null. Caller holds the PTL. */
    public Page page(long addr) {
        assert ptl.isHeldByCurrentThread();
        return pages[index(addr)];
    }

    /** The PTE bits at {@code addr}. Caller holds the PTL. */
    public int bits(long addr) {
        assert ptl.isHeldByCurrentThread();
        return bits[index(addr)];
    }

    public Page pageAt(int index) {
        assert ptl.isHeldByCurrentThread();
        return pages[index];
    }

    public int bitsAt(int index) {
        assert ptl.isHeldByCurrentThread();
        return bits[index];
    }

    /** Install {@code page} (whose reference the table takes over) with {@code pteBits}. Caller holds the PTL; the slot must be empty. */
    public void install(long addr, Page page, int pteBits) {
        assert ptl.isHeldByCurrentThread();
        int i = index(addr);
        if (pages[i] != null) {
            throw new IllegalStateException("PTE at " + Long.toHexString(addr) + " already present");
        }
        pages[i] = page;
        bits[i] = (byte) pteBits;
        present++;
    }

    /** Replace the page at a present PTE (COW); returns the old page, whose reference passes to the caller. Caller holds the PTL. */
    public Page replace(long addr, Page page, int pteBits) {
        assert ptl.isHeldByCurrentThread();
        int i = index(addr);
        Page old = pages[i];
        if (old == null) {
            throw new IllegalStateException("no PTE at " + Long.toHexString(addr));
        }
        pages[i] = page;
        bits[i] = (byte) pteBits;
        return old;
    }

    public void setBits(long addr, int pteBits) {
        assert ptl.isHeldByCurrentThread();
        bits[index(addr)] = (byte) pteBits;
    }

    /** Clear the PTE at {@code addr}; returns its page (reference passes to the caller) or null. Caller holds the PTL. */
    public Page clear(long addr) {
        assert ptl.isHeldByCurrentThread();
        int i = index(addr);
        Page old = pages[i];
        if (old != null) {
            pages[i] = null;
            bits[i] = 0;
            present--;
        }
        return old;
    }

    /** Number of present PTEs. Caller holds the PTL. */
    public int present() {
        return present;
    }

    public boolean isDetached() {
        assert ptl.isHeldByCurrentThread();
        return detached;
    }

    void markDetached() {
        detached = true;
    }
}
