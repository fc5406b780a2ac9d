package dev.mmlab.conformance;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;

import com.google.common.collect.Range;
import com.google.common.collect.RangeMap;
import com.google.common.collect.TreeRangeMap;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A sequential model of one address space, precise enough to predict the outcome of every {@link ModelOp}:
 * the layout (which pages are mapped, with which protection, sharing, backing and page offset), the errno of a
 * failing call, the fault outcome of an access and the content word a read returns.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> nothing: not thread-safe. One model follows one address space driven by
 *       one thread.</li>
 *   <li><b>Lock order.</b> none: the model takes no lock; the engine calls it makes take the strategy's locks
 *       as any single-threaded caller's do.</li>
 *   <li><b>Layout.</b> The layout is a Guava {@link TreeRangeMap} from page numbers to {@link Attr}; a page's
 *       offset in its backing is {@code page + attr.base}, so splitting or joining ranges never changes an
 *       attribute.</li>
 *   <li><b>VMA boundaries.</b> The model does not decide where the engine draws VMA boundaries (merges depend
 *       on anon identities the model does not track): layouts are compared as runs of pages with equal
 *       attributes and contiguous offsets. The one call whose result depends on VMA identity, mremap ("the old
 *       range must be one mapping"), reads the engine's boundaries, which the previous step has already checked
 *       against the model.</li>
 *   <li><b>File content.</b> A file's initial content is learnt at its first read rather than predicted; every
 *       later read must agree.</li>
 * </ul>
 */
public final class ReferenceModel {
    /** What a page is mapped with. {@code backing} is "anon", "file0", "file1" or "shmem#N". */
    record Attr(int prot, boolean shared, boolean mayWrite, String backing, long base) {}

    private final Mm mm;
    private final OpenFile[] files;
    private static final long FILE_PAGES_BYTES = ModelOp.FILE_PAGES * PAGE_SIZE;

    private final RangeMap<Long, Attr> layout = TreeRangeMap.create();
    /** Content of private pages that were written (anonymous, or COW copies of file pages), by page number. */
    private final Map<Long, Long> privateContent = new HashMap<>();
    /** Content of shared objects (files and shmem) by backing and page offset. */
    private final Map<String, Map<Long, Long>> sharedContent = new HashMap<>();
    /** Model shmem name to engine inode, and back: a bijection learnt as mappings appear. */
    private final Map<String, Long> shmemInode = new HashMap<>();
    private final Map<Long, String> inodeShmem = new HashMap<>();
    private final List<String> history = new ArrayList<>();
    private int shmemCount;
    /** Each shmem object's size in pages: that of the mmap that made it. */
    private final Map<String, Long> shmemPages = new HashMap<>();
    private int step;
    private ModelOp lastOp;
    /** The address the engine chose for the last {@link ModelOp.MmapAnywhere}, until the layout check takes it. */
    private long anywhere;

    /** A model and a fresh address space of {@code sut}, with two files: one opened read-write, one read-only. */
    public ReferenceModel(StrategyUnderTest sut) {
        MmConfig config = MmConfig.defaults();
        this.mm = sut.newMm(config);
        BlockDevice dev = BlockDevice.instant("sda", 8, 0);
        this.files = new OpenFile[] {
            OpenFile.readWrite(BackingFile.regular("/data/rw.bin", 1001, FILE_PAGES_BYTES, dev, config.allocator())),
            OpenFile.readOnly(BackingFile.regular("/data/ro.bin", 1002, FILE_PAGES_BYTES, dev, config.allocator()))
        };
    }

    public Mm mm() {
        return mm;
    }

    /** Run {@code ops} on the engine and the model; fails with the history of the sequence at the first mismatch. */
    public void run(List<ModelOp> ops) {
        for (ModelOp op : ops) {
            apply(op);
        }
    }

    /** Run one step on both, then compare layouts. */
    public void apply(ModelOp op) {
        step++;
        lastOp = op;
        String expected = predictAndApply(op);
        String actual = execute(op);
        history.add(step + ": " + op + " -> " + actual);
        if (!Objects.equals(expected, actual)) {
            fail("step " + step + " " + op + ": model expected " + expected + " but the engine gave " + actual);
        }
        compareLayout();
    }

    private void fail(String message) {
        throw new AssertionError(mm.strategy().name() + " " + mm.strategyConfig().values() + ": " + message
                + "\nhistory:\n  " + String.join("\n  ", history) + "\nengine maps:\n" + mm.procMaps()
                + "model runs: " + runs(layout));
    }

    // ------------------------------------------------------------------ the engine side

    private String execute(ModelOp op) {
        try {
            if (op instanceof ModelOp.MmapAnon o) {
                return "ok " + hex(mm.mmap(ModelOp.addr(o.page()), o.pages() * PAGE_SIZE, o.prot(),
                        (o.shared() ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_FIXED, null, 0));
            } else if (op instanceof ModelOp.MmapFile o) {
                return "ok " + hex(mm.mmap(ModelOp.addr(o.page()), o.pages() * PAGE_SIZE, o.prot(),
                        (o.shared() ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED, files[o.file()], o.pgoff() * PAGE_SIZE));
            } else if (op instanceof ModelOp.MmapAnywhere o) {
                long a = mm.mmap(0, o.pages() * PAGE_SIZE, o.prot(), MAP_PRIVATE | MAP_ANONYMOUS, null, 0);
                anywhere = a;
                return "ok anywhere";
            } else if (op instanceof ModelOp.Munmap o) {
                mm.munmap(ModelOp.addr(o.page()), o.pages() * PAGE_SIZE);
            } else if (op instanceof ModelOp.Mprotect o) {
                mm.mprotect(ModelOp.addr(o.page()), o.pages() * PAGE_SIZE, o.prot());
            } else if (op instanceof ModelOp.DontNeed o) {
                mm.madvise(ModelOp.addr(o.page()), o.pages() * PAGE_SIZE, MADV_DONTNEED);
            } else if (op instanceof ModelOp.MremapMove o) {
                return "ok " + hex(mm.mremap(ModelOp.addr(o.page()), o.pages() * PAGE_SIZE, o.newPages() * PAGE_SIZE,
                        MREMAP_MAYMOVE | MREMAP_FIXED, ModelOp.addr(o.newPage())));
            } else if (op instanceof ModelOp.MremapResize o) {
                return "ok " + hex(mm.mremap(ModelOp.addr(o.page()), o.pages() * PAGE_SIZE, o.newPages() * PAGE_SIZE, 0, 0));
            } else if (op instanceof ModelOp.Read o) {
                return "read " + hex(mm.read(ModelOp.addr(o.page())));
            } else if (op instanceof ModelOp.Write o) {
                for (int i = 0; i < o.pages(); i++) {
                    try {
                        mm.write(ModelOp.addr(o.page() + i), token(i));
                    } catch (MemoryAccessException e) {
                        return e.outcome().name() + "@" + i;
                    }
                }
            } else if (op instanceof ModelOp.ReadAll) {
                StringBuilder sb = new StringBuilder("all");
                for (int i = 0; i < ModelOp.WINDOW_PAGES; i++) {
                    String v;
                    try {
                        v = hex(mm.read(ModelOp.addr(i)));
                    } catch (MemoryAccessException e) {
                        v = e.outcome().name();
                    }
                    sb.append(' ').append(v);
                }
                return sb.toString();
            }
            return "ok";
        } catch (ErrnoException e) {
            return e.errno().name();
        } catch (MemoryAccessException e) {
            return e.outcome().name();
        }
    }

    private long token(int i) {
        return 0x7000_0000_0000L | (long) step << 8 | i;
    }

    // ------------------------------------------------------------------ the model side

    private static Range<Long> pages(long first, long count) {
        return Range.closedOpen(first, first + count);
    }

    private static long pageNo(int windowPage) {
        return ModelOp.addr(windowPage) >>> PAGE_SHIFT;
    }

    private String predictAndApply(ModelOp op) {
        if (op instanceof ModelOp.MmapAnon o) {
            long p = pageNo(o.page());
            Attr a;
            if (o.shared()) {
                String name = "shmem#" + (++shmemCount);
                shmemPages.put(name, (long) o.pages());
                a = new Attr(o.prot(), true, true, name, -p);
            } else {
                a = new Attr(o.prot(), false, true, "anon", 0);
            }
            mapFixed(p, o.pages(), a);
            return "ok " + hex(ModelOp.addr(o.page()));
        } else if (op instanceof ModelOp.MmapFile o) {
            boolean readOnly = o.file() == 1;
            if (o.shared() && readOnly && (o.prot() & PROT_WRITE) != 0) {
                return "EACCES";
            }
            long p = pageNo(o.page());
            mapFixed(p, o.pages(), new Attr(o.prot(), o.shared(), !(o.shared() && readOnly), "file" + o.file(), o.pgoff() - p));
            return "ok " + hex(ModelOp.addr(o.page()));
        } else if (op instanceof ModelOp.MmapAnywhere o) {
            return "ok anywhere";
        } else if (op instanceof ModelOp.Munmap o) {
            unmap(pageNo(o.page()), o.pages());
            return "ok";
        } else if (op instanceof ModelOp.Mprotect o) {
            return mprotect(pageNo(o.page()), o.pages(), o.prot());
        } else if (op instanceof ModelOp.DontNeed o) {
            return dontNeed(pageNo(o.page()), o.pages());
        } else if (op instanceof ModelOp.MremapMove o) {
            return mremapMove(pageNo(o.page()), o.pages(), pageNo(o.newPage()), o.newPages());
        } else if (op instanceof ModelOp.MremapResize o) {
            return mremapResize(pageNo(o.page()), o.pages(), o.newPages());
        } else if (op instanceof ModelOp.Read o) {
            return read(pageNo(o.page()));
        } else if (op instanceof ModelOp.Write o) {
            for (int i = 0; i < o.pages(); i++) {
                String r = write(pageNo(o.page()) + i, token(i));
                if (!r.equals("ok")) {
                    return r + "@" + i;
                }
            }
            return "ok";
        } else if (op instanceof ModelOp.ReadAll) {
            StringBuilder sb = new StringBuilder("all");
            for (int i = 0; i < ModelOp.WINDOW_PAGES; i++) {
                String r = read(pageNo(i));
                sb.append(' ').append(r.startsWith("read ") ? r.substring(5) : r);
            }
            return sb.toString();
        }
        throw new IllegalArgumentException("unknown step " + op);
    }

    private void mapFixed(long p, long count, Attr a) {
        unmap(p, count);
        layout.put(pages(p, count), a);
    }

    private void unmap(long p, long count) {
        layout.remove(pages(p, count));
        for (long q = p; q < p + count; q++) {
            privateContent.remove(q);
        }
    }

    private String mprotect(long p, long count, int prot) {
        for (long q = p; q < p + count; q++) {
            Attr a = layout.get(q);
            if (a == null) {
                return "ENOMEM";
            }
            if (a.shared() && !a.mayWrite() && (prot & PROT_WRITE) != 0) {
                return "EACCES";
            }
            layout.put(pages(q, 1), new Attr(prot, a.shared(), a.mayWrite(), a.backing(), a.base()));
        }
        return "ok";
    }

    private String dontNeed(long p, long count) {
        boolean hole = false;
        for (long q = p; q < p + count; q++) {
            Attr a = layout.get(q);
            if (a == null) {
                hole = true;
            } else if (!a.shared()) {
                privateContent.remove(q);
            }
        }
        return hole ? "ENOMEM" : "ok";
    }

    /** The engine's VMA containing page {@code p}, as {@code [startPage, endPage)}, or null. */
    private long[] engineVma(long p) {
        Vma v = mm.tree().find(p << PAGE_SHIFT);
        return v == null ? null : new long[] {v.start() >>> PAGE_SHIFT, v.end() >>> PAGE_SHIFT};
    }

    /**
     * {@code mremap(MAYMOVE | FIXED)} as Linux 6.17 does it. Same size ({@code remap_move}): every mapped
     * piece of the old range moves by the same delta, unmapping only its own part of the target; a hole at
     * the start, or nothing mapped, is EFAULT. Other sizes ({@code mremap_to}): the VMA at the old address
     * must hold the part that is kept; the target is unmapped, a shrink unmaps the old tail, then the move.
     */
    private String mremapMove(long p, long count, long np, long newCount) {
        if (p < np + newCount && np < p + count) {
            return "EINVAL";
        }
        if (count == newCount) {
            Map<Range<Long>, Attr> pieces = layout.subRangeMap(pages(p, count)).asMapOfRanges();
            if (pieces.isEmpty() || layout.get(p) == null) {
                return "EFAULT";
            }
            for (Range<Long> r : new ArrayList<>(pieces.keySet())) {
                long s = r.lowerEndpoint();
                long n = r.upperEndpoint() - s;
                move(s, s + (np - p), n);
            }
            return "ok " + hex(np << PAGE_SHIFT);
        }
        long[] v = engineVma(p);
        if (v == null || p + Math.min(count, newCount) > v[1]) {
            return "EFAULT";
        }
        Attr attr = layout.get(p);
        unmap(np, newCount);
        if (count > newCount) {
            unmap(p + newCount, count - newCount);
        }
        move(p, np, Math.min(count, newCount));
        if (newCount > count) {
            long delta = np - p;
            layout.put(pages(np + count, newCount - count), new Attr(attr.prot(), attr.shared(), attr.mayWrite(),
                    attr.backing(), attr.backing().equals("anon") ? 0 : attr.base() - delta));
        }
        return "ok " + hex(np << PAGE_SHIFT);
    }

    /** Move the mapping and private content of {@code [p, p+count)} to {@code np}, replacing what was there. */
    private void move(long p, long np, long count) {
        long delta = np - p;
        Map<Range<Long>, Attr> pieces = new HashMap<>(layout.subRangeMap(pages(p, count)).asMapOfRanges());
        Map<Long, Long> content = new HashMap<>();
        for (long q = p; q < p + count; q++) {
            Long c = privateContent.get(q);
            if (c != null) {
                content.put(q + delta, c);
            }
        }
        unmap(np, count);
        unmap(p, count);
        pieces.forEach((r, a) -> layout.put(Range.closedOpen(r.lowerEndpoint() + delta, r.upperEndpoint() + delta),
                new Attr(a.prot(), a.shared(), a.mayWrite(), a.backing(), a.backing().equals("anon") ? 0 : a.base() - delta)));
        privateContent.putAll(content);
    }

    /**
     * {@code mremap} without flags (Linux 6.17): the old address must be mapped (EFAULT); the same size changes
     * nothing; a shrink unmaps the tail whatever it covers; a grow needs the old range inside one VMA (EFAULT)
     * ending where the VMA ends with room after it, else ENOMEM.
     */
    private String mremapResize(long p, long count, long newCount) {
        long[] v = engineVma(p);
        if (v == null) {
            return "EFAULT";
        }
        if (newCount <= count) {
            unmap(p + newCount, count - newCount);
            return "ok " + hex(p << PAGE_SHIFT);
        }
        if (p + count > v[1]) {
            return "EFAULT";
        }
        boolean free = layout.subRangeMap(pages(p + count, newCount - count)).asMapOfRanges().isEmpty();
        if (p + count == v[1] && free) {
            Attr a = layout.get(p);
            layout.put(pages(p + count, newCount - count), a);
            return "ok " + hex(p << PAGE_SHIFT);
        }
        return "ENOMEM";
    }

    private boolean beyondEof(Attr a, long p) {
        long off = p + a.base();
        if (a.backing().startsWith("shmem")) {
            // A shmem object keeps the size of the mmap that made it; mremap growing or moving a mapping of it
            // does not change it (shmem_get_folio_gfp: SIGBUS past i_size).
            return off >= shmemPages.get(a.backing());
        }
        // A regular file ends at FILE_PAGES.
        return a.backing().startsWith("file") && off >= ModelOp.FILE_PAGES;
    }

    private String read(long p) {
        Attr a = layout.get(p);
        if (a == null) {
            return "SEGV";
        }
        if (a.prot() == PROT_NONE) {
            return "ACCESS";
        }
        if (!a.shared()) {
            Long c = privateContent.get(p);
            if (c != null) {
                return "read " + hex(c);
            }
            if (a.backing().equals("anon")) {
                return "read 0x0";
            }
        }
        if (beyondEof(a, p)) {
            return "BUS";
        }
        Map<Long, Long> content = sharedContent.computeIfAbsent(a.backing(), k -> new HashMap<>());
        Long c = content.get(p + a.base());
        if (c == null && a.backing().startsWith("shmem")) {
            c = 0L;
        }
        if (c == null) {
            // The file's initial content: learnt from this read (see the class comment).
            Long seen = peekEngine(p);
            if (seen == null) {
                return "unknown";
            }
            content.put(p + a.base(), seen);
            c = seen;
        }
        return "read " + hex(c);
    }

    /** What the engine returns for a read of {@code p}; only used to learn a file's initial content. */
    private Long peekEngine(long p) {
        try {
            return mm.read(p << PAGE_SHIFT);
        } catch (MemoryAccessException e) {
            return null;
        }
    }

    private String write(long p, long token) {
        Attr a = layout.get(p);
        if (a == null) {
            return "SEGV";
        }
        if ((a.prot() & PROT_WRITE) == 0) {
            return "ACCESS";
        }
        if (!a.backing().equals("anon") && beyondEof(a, p)) {
            return "BUS";
        }
        if (a.shared()) {
            sharedContent.computeIfAbsent(a.backing(), k -> new HashMap<>()).put(p + a.base(), token);
        } else {
            privateContent.put(p, token);
        }
        return "ok";
    }

    // ------------------------------------------------------------------ comparing layouts

    /** A run of pages with one attribute set; {@code backing} for shmem is the engine inode. */
    record Run(long startPage, long endPage, Attr attr) {
        @Override
        public String toString() {
            return hex(startPage << PAGE_SHIFT) + "-" + hex(endPage << PAGE_SHIFT) + " " + attr;
        }
    }

    private static List<Run> runs(RangeMap<Long, Attr> map) {
        List<Run> out = new ArrayList<>();
        for (Map.Entry<Range<Long>, Attr> e : map.asMapOfRanges().entrySet()) {
            add(out, new Run(e.getKey().lowerEndpoint(), e.getKey().upperEndpoint(), e.getValue()));
        }
        return out;
    }

    private static void add(List<Run> out, Run r) {
        if (!out.isEmpty()) {
            Run last = out.get(out.size() - 1);
            if (last.endPage() == r.startPage() && last.attr().equals(r.attr())) {
                out.set(out.size() - 1, new Run(last.startPage(), r.endPage(), r.attr()));
                return;
            }
        }
        out.add(r);
    }

    private void compareLayout() {
        RangeMap<Long, Attr> engine = TreeRangeMap.create();
        for (Vma v : mm.tree().all()) {
            long s = v.start() >>> PAGE_SHIFT;
            long e = v.end() >>> PAGE_SHIFT;
            int prot = (v.has(VM_READ) ? PROT_READ : 0) | (v.has(VM_WRITE) ? PROT_WRITE : 0) | (v.has(VM_EXEC) ? PROT_EXEC : 0);
            String backing;
            long base = 0;
            BackingFile f = v.file();
            if (f == null) {
                backing = "anon";
            } else if (f.isShmem()) {
                backing = inodeShmem.getOrDefault(f.inode(), "shmem-inode-" + f.inode());
                base = v.pgoff() - s;
            } else {
                backing = f == files[0].file() ? "file0" : f == files[1].file() ? "file1" : f.path();
                base = v.pgoff() - s;
            }
            engine.put(Range.closedOpen(s, e), new Attr(prot, v.has(VM_MAYSHARE), v.has(VM_MAYWRITE), backing, base));
        }
        // Pair model shmem objects with engine inodes the first time both are seen at one address.
        for (Map.Entry<Range<Long>, Attr> e : engine.asMapOfRanges().entrySet()) {
            String b = e.getValue().backing();
            if (b.startsWith("shmem-inode-")) {
                Attr m = layout.get(e.getKey().lowerEndpoint());
                long inode = Long.parseLong(b.substring("shmem-inode-".length()));
                if (m != null && m.backing().startsWith("shmem#") && !shmemInode.containsKey(m.backing())) {
                    shmemInode.put(m.backing(), inode);
                    inodeShmem.put(inode, m.backing());
                    compareLayout();
                    return;
                }
            }
        }
        // The anywhere mapping: the engine picked it; the model accepts it if it was free and in range.
        if (anywhere != 0) {
            long a = anywhere;
            anywhere = 0;
            ModelOp.MmapAnywhere o = (ModelOp.MmapAnywhere) lastOp;
            long p = a >>> PAGE_SHIFT;
            if (!isPageAligned(a) || a < MMAP_MIN_ADDR || a + o.pages() * PAGE_SIZE > mm.config().mmapBase()
                    || !layout.subRangeMap(pages(p, o.pages())).asMapOfRanges().isEmpty()) {
                fail("mmap(NULL) returned " + hex(a) + ", which is not a free range below mmap_base");
            }
            layout.put(pages(p, o.pages()), new Attr(o.prot(), false, true, "anon", 0));
        }
        List<Run> expected = runs(layout);
        List<Run> actual = runs(engine);
        if (!expected.equals(actual)) {
            fail("layout differs after step " + step + "\n  model:  " + expected + "\n  engine: " + actual);
        }
    }


    /** The history so far, one step a line. */
    public List<String> history() {
        return List.copyOf(history);
    }
}
