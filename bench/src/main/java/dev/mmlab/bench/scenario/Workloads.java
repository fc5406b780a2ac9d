package dev.mmlab.bench.scenario;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mem.Page;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The loops scenarios are made of. Each factory method returns a {@link Role.WorkerFactory}; the mappings a
 * worker owns are made when the factory runs (before the run, untimed). Operation names are part of the JSON
 * contract: {@code fault}, {@code iteration}, {@code read}, {@code mmap}, {@code mprotect}, {@code munmap},
 * {@code call}, {@code page}, {@code fork}.
 */
public final class Workloads {
    /** Pages between two checks of {@link OpRecorder#stopping()} inside a long step. */
    private static final int STOP_CHECK_PAGES = 256;

    private Workloads() {}

    /** Where a region goes: a fixed address in a private arena, or wherever mmap's top-down search puts it. */
    record Placement(long addr, int flags) {
        static Placement of(ScenarioContext ctx, long bytes, boolean packed) {
            return packed ? new Placement(0, 0) : new Placement(ctx.arena(bytes), MAP_FIXED);
        }
    }

    /**
     * {@code fault}: each step writes the next page of the thread's own anon region, a real fault; when every
     * page has been touched, MADV_DONTNEED (untimed) drops them so the next pass faults again.
     */
    public static Role.WorkerFactory faultLoop(ScenarioContext ctx, long regionBytes, boolean packed) {
        Mm mm = ctx.mm();
        long bytes = pageAlign(regionBytes);
        return index -> {
            Placement at = Placement.of(ctx, bytes, packed);
            long base = mm.mmapAnon(at.addr(), bytes, PROT_READ | PROT_WRITE, at.flags());
            long pages = pages(bytes);
            long[] next = {0};
            return rec -> {
                long addr = base + next[0] * PAGE_SIZE;
                long t = rec.start();
                mm.write(addr, addr);
                rec.record("fault", t);
                if (++next[0] == pages) {
                    next[0] = 0;
                    mm.madvise(base, bytes, MADV_DONTNEED);
                }
            };
        };
    }

    /**
     * {@code fault}, pft style: {@code threads} threads fault their own slices of one shared anonymous VMA, so
     * every fault goes through the same VMA (its lock, its counters); after its last page a thread drops its
     * slice with MADV_DONTNEED (untimed) and starts over. The VMA is mapped now, before any worker exists.
     */
    public static Role.WorkerFactory sharedVmaFaults(ScenarioContext ctx, long sliceBytes, int threads) {
        Mm mm = ctx.mm();
        long slice = (pageAlign(sliceBytes) + PMD_SIZE - 1) / PMD_SIZE * PMD_SIZE;
        long base = mm.mmapAnon(ctx.arena(slice * Math.max(1, threads)), slice * Math.max(1, threads),
                PROT_READ | PROT_WRITE, MAP_FIXED);
        long pages = pages(slice);
        return index -> {
            long mine = base + index * slice;
            long[] next = {0};
            return rec -> {
                long addr = mine + next[0] * PAGE_SIZE;
                long t = rec.start();
                mm.write(addr, addr);
                rec.record("fault", t);
                if (++next[0] == pages) {
                    next[0] = 0;
                    mm.madvise(mine, slice, MADV_DONTNEED);
                }
            };
        };
    }

    /**
     * One shared range of {@code pages} pages that every thread changes and faults at random: {@code map}
     * (MAP_FIXED over all of it), {@code unmap}, {@code protect}, {@code zap} (MADV_DONTNEED) of a few pages,
     * {@code read} and {@code write} of one page. Nothing here can be predicted, only kept consistent: a fault
     * on a page another thread just unmapped or protected is a SEGV or an access error, which counts as the
     * operation done (Linux gives the same).
     */
    public static Role.WorkerFactory contendedRange(ScenarioContext ctx, int pages) {
        Mm mm = ctx.mm();
        long bytes = (long) Math.max(1, pages) * PAGE_SIZE;
        long base = mm.mmapAnon(ctx.arena(bytes), bytes, PROT_READ | PROT_WRITE, MAP_FIXED);
        return index -> {
            SplittableRandom r = new SplittableRandom(ctx.seed() * 31 + index);
            return rec -> {
                long page = base + r.nextInt(Math.max(1, pages)) * PAGE_SIZE;
                long few = Math.min(1 + r.nextInt(3), (base + bytes - page) / PAGE_SIZE) * PAGE_SIZE;
                long t = rec.start();
                String op;
                try {
                    switch (r.nextInt(6)) {
                        case 0 -> {
                            op = "map";
                            mm.mmapAnon(base, bytes, PROT_READ | PROT_WRITE, MAP_FIXED);
                        }
                        case 1 -> {
                            op = "unmap";
                            mm.munmap(page, few);
                        }
                        case 2 -> {
                            op = "protect";
                            mm.mprotect(page, few, r.nextBoolean() ? PROT_READ : PROT_READ | PROT_WRITE);
                        }
                        case 3 -> {
                            op = "zap";
                            mm.madvise(page, few, MADV_DONTNEED);
                        }
                        case 4 -> {
                            op = "read";
                            mm.read(page);
                        }
                        default -> {
                            op = "write";
                            mm.write(page, t);
                        }
                    }
                } catch (MemoryAccessException e) {
                    op = "segv";
                } catch (ErrnoException e) {
                    if (e.errno() != Errno.ENOMEM) {
                        throw e;
                    }
                    op = "enomem";
                }
                rec.record(op, t);
            };
        };
    }

    /** {@code iteration}: mmap a small anon region, write every page, munmap it. */
    public static Role.WorkerFactory mapperLoop(ScenarioContext ctx, long regionBytes, boolean packed) {
        Mm mm = ctx.mm();
        long bytes = pageAlign(regionBytes);
        return index -> {
            Placement at = Placement.of(ctx, bytes, packed);
            return rec -> {
                long t = rec.start();
                long base = mm.mmapAnon(at.addr(), bytes, PROT_READ | PROT_WRITE, at.flags());
                for (long a = base; a < base + bytes; a += PAGE_SIZE) {
                    mm.write(a, a);
                }
                mm.munmap(base, bytes);
                rec.record("iteration", t);
            };
        };
    }

    /**
     * {@code fault}: read pages of a file mapping in a scattered order that visits every page once per pass, so
     * the page cache stays cold (every fault reads the device) and the reader faults back to back, as the 2010
     * benchmark's reader did. After a full pass (minutes at disk latency) MADV_DONTNEED and eviction (untimed)
     * make the file cold again.
     */
    public static Role.WorkerFactory coldFileReader(ScenarioContext ctx, BackingFile file) {
        Mm mm = ctx.mm();
        long bytes = file.sizeBytes();
        return index -> {
            long base = mm.mmap(ctx.arena(bytes), bytes, PROT_READ, MAP_PRIVATE | MAP_FIXED,
                    OpenFile.readOnly(file), 0);
            Scatter order = new Scatter(pages(bytes), ctx.random().nextLong(pages(bytes)));
            return rec -> {
                long addr = base + order.next() * PAGE_SIZE;
                long t = rec.start();
                mm.read(addr);
                rec.record("fault", t);
                if (order.wrapped()) {
                    mm.madvise(base, bytes, MADV_DONTNEED);
                    file.cache().evictUnmapped();
                }
            };
        };
    }

    /**
     * {@code call}: get_user_pages of {@code nrPages} pages of a cold file mapping (it faults them in under the
     * mmap read lock, which it cannot drop for the I/O), then unpin them. Calls walk the file in a scattered
     * order so every call reads the device; after a pass the file is made cold again (untimed).
     */
    public static Role.WorkerFactory gupLoop(ScenarioContext ctx, BackingFile file, int nrPages) {
        Mm mm = ctx.mm();
        long bytes = file.sizeBytes();
        return index -> {
            long base = mm.mmap(ctx.arena(bytes), bytes, PROT_READ, MAP_PRIVATE | MAP_FIXED,
                    OpenFile.readOnly(file), 0);
            long slots = Math.max(1, pages(bytes) / nrPages);
            Scatter order = new Scatter(slots, ctx.random().nextLong(slots));
            return rec -> {
                long addr = base + order.next() * nrPages * PAGE_SIZE;
                long t = rec.start();
                List<Page> pinned = mm.getUserPages(addr, nrPages, false);
                rec.record("call", t);
                mm.unpinUserPages(pinned);
                if (order.wrapped()) {
                    mm.madvise(base, bytes, MADV_DONTNEED);
                    file.cache().evictUnmapped();
                }
            };
        };
    }

    /** Visits {@code 0..n-1} each once per pass in a scattered order: {@code i * stride mod n}, stride coprime to n. */
    static final class Scatter {
        private static final long STRIDE = 7919;
        private final long n;
        private final long stride;
        private long k;
        private boolean wrapped;

        Scatter(long n, long start) {
            this.n = n;
            this.stride = gcd(STRIDE, n) == 1 ? STRIDE : 1;
            this.k = start;
        }

        long next() {
            long v = (k % n) * stride % n;
            k++;
            wrapped = k % n == 0;
            return v;
        }

        /** Whether the last {@link #next} completed a pass. */
        boolean wrapped() {
            return wrapped;
        }

        private static long gcd(long a, long b) {
            return b == 0 ? a : gcd(b, a % b);
        }
    }

    /** {@code read}: read the whole {@code /proc/pid/maps}, chunk by chunk as a program does. */
    public static Role.WorkerFactory procScanner(ScenarioContext ctx) {
        Mm mm = ctx.mm();
        return index -> rec -> {
            long t = rec.start();
            mm.procMaps();
            rec.record("read", t);
        };
    }

    /**
     * {@code mmap}, {@code mprotect}, {@code munmap}: map a region, write its first page, make its first half
     * read-only (a split), unmap it; each call timed on its own.
     */
    public static Role.WorkerFactory remapper(ScenarioContext ctx, long regionBytes) {
        Mm mm = ctx.mm();
        long bytes = Math.max(2 * PAGE_SIZE, pageAlign(regionBytes));
        return index -> {
            long at = ctx.arena(bytes);
            return rec -> {
                long t = rec.start();
                long base = mm.mmapAnon(at, bytes, PROT_READ | PROT_WRITE, MAP_FIXED);
                rec.record("mmap", t);
                mm.write(base, 1);
                t = rec.start();
                mm.mprotect(base, bytes / 2 & PAGE_MASK, PROT_READ);
                rec.record("mprotect", t);
                t = rec.start();
                mm.munmap(base, bytes);
                rec.record("munmap", t);
            };
        };
    }

    /** {@code munmap}: map a large region with MAP_POPULATE (untimed), then unmap it (timed). */
    public static Role.WorkerFactory bigUnmapper(ScenarioContext ctx, long regionBytes) {
        Mm mm = ctx.mm();
        long bytes = pageAlign(regionBytes);
        return index -> {
            long at = ctx.arena(bytes);
            return rec -> {
                long base = mm.mmapAnon(at, bytes, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_POPULATE);
                long t = rec.start();
                mm.munmap(base, bytes);
                rec.record("munmap", t);
            };
        };
    }

    /**
     * {@code iteration}: a thread's life as the stack sees it: mmap the stack, mprotect its lowest page to
     * PROT_NONE (the guard page), touch its top pages, munmap it at exit.
     */
    public static Role.WorkerFactory spawner(ScenarioContext ctx, long stackBytes, int touchPages) {
        Mm mm = ctx.mm();
        long bytes = Math.max(2 * PAGE_SIZE, pageAlign(stackBytes));
        return index -> {
            long at = ctx.arena(bytes);
            return rec -> {
                long t = rec.start();
                long base = mm.mmapAnon(at, bytes, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_STACK);
                mm.mprotect(base, PAGE_SIZE, PROT_NONE);
                for (int i = 1; i <= touchPages && i < pages(bytes); i++) {
                    mm.write(base + bytes - i * PAGE_SIZE, i);
                }
                mm.munmap(base, bytes);
                rec.record("iteration", t);
            };
        };
    }

    /**
     * {@code fork} and {@code iteration}: a shell, zygote or Go build as the parent sees it. Fork ({@code fork}
     * times the copy alone: the parent's mm write lock is held throughout), the child writes {@code touchPages}
     * pages of the forker's populated region (copy-on-write faults in the child) and exits; {@code iteration}
     * times all three. The child lives on this thread only, so its own lock never contends with the parent's.
     */
    public static Role.WorkerFactory forker(ScenarioContext ctx, long regionBytes, int touchPages) {
        Mm mm = ctx.mm();
        long bytes = pageAlign(regionBytes);
        long touched = Math.min(touchPages, pages(bytes));
        return index -> {
            long base = mm.mmapAnon(ctx.arena(bytes), bytes, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_POPULATE);
            return rec -> {
                long t = rec.start();
                Mm child = mm.fork();
                rec.record("fork", t);
                try {
                    for (long i = 0; i < touched; i++) {
                        child.write(base + i * PAGE_SIZE, i);
                    }
                } finally {
                    child.exit();
                }
                rec.record("iteration", t);
            };
        };
    }

    /** What the will-it-scale page_fault tests map. */
    public enum Backing { ANON, PRIVATE_FILE, SHARED_FILE }

    /**
     * {@code page}: will-it-scale page_fault1/2/3: mmap the region (anon, a private or a shared mapping of the
     * thread's own file), write every page (each write timed: a fault), munmap.
     */
    public static Role.WorkerFactory pageFaultLoop(ScenarioContext ctx, long regionBytes, Backing backing) {
        Mm mm = ctx.mm();
        long bytes = pageAlign(regionBytes);
        return index -> {
            long at = ctx.arena(bytes);
            BackingFile file = backing == Backing.ANON ? null
                    : ctx.file("will-it-scale-" + index, bytes, dev.mmlab.api.mem.LatencyModel.none());
            return rec -> {
                long base;
                if (backing == Backing.ANON) {
                    base = mm.mmapAnon(at, bytes, PROT_READ | PROT_WRITE, MAP_FIXED);
                } else {
                    int type = backing == Backing.SHARED_FILE ? MAP_SHARED : MAP_PRIVATE;
                    base = mm.mmap(at, bytes, PROT_READ | PROT_WRITE, type | MAP_FIXED, OpenFile.readWrite(file), 0);
                }
                int n = 0;
                for (long a = base; a < base + bytes; a += PAGE_SIZE) {
                    long t = rec.start();
                    mm.write(a, a);
                    rec.record("page", t);
                    if (++n % STOP_CHECK_PAGES == 0 && rec.stopping()) {
                        break;
                    }
                }
                mm.munmap(base, bytes);
            };
        };
    }

    /** {@code iteration}: will-it-scale mmap1: mmap and munmap a region without touching it. */
    public static Role.WorkerFactory mmapLoop(ScenarioContext ctx, long regionBytes) {
        Mm mm = ctx.mm();
        long bytes = pageAlign(regionBytes);
        return index -> {
            long at = ctx.arena(bytes);
            return rec -> {
                long t = rec.start();
                long base = mm.mmapAnon(at, bytes, PROT_READ | PROT_WRITE, MAP_FIXED);
                mm.munmap(base, bytes);
                rec.record("iteration", t);
            };
        };
    }

    /**
     * {@code iteration}: the spf test: mmap {@code vmas} separate VMAs (a page apart, so they do not merge),
     * fault every page of each, unmap them.
     */
    public static Role.WorkerFactory spfLoop(ScenarioContext ctx, int vmas, long vmaBytes) {
        Mm mm = ctx.mm();
        long bytes = pageAlign(vmaBytes);
        long stride = bytes + PAGE_SIZE;
        return index -> {
            long at = ctx.arena(stride * vmas);
            return rec -> {
                long t = rec.start();
                for (int i = 0; i < vmas; i++) {
                    mm.mmapAnon(at + i * stride, bytes, PROT_READ | PROT_WRITE, MAP_FIXED);
                }
                for (int i = 0; i < vmas; i++) {
                    for (long a = at + i * stride; a < at + i * stride + bytes; a += PAGE_SIZE) {
                        mm.write(a, a);
                    }
                }
                for (int i = 0; i < vmas; i++) {
                    mm.munmap(at + i * stride, bytes);
                }
                rec.record("iteration", t);
            };
        };
    }

    /**
     * {@code fault} in a driver's mapping: fault the next page of a region mapped through {@code ops}; after the
     * last page, unmap and map the region again (untimed; driver mappings refuse MADV_DONTNEED).
     */
    public static Role.WorkerFactory driverFaults(ScenarioContext ctx, VmOps ops, long regionBytes) {
        Mm mm = ctx.mm();
        long bytes = pageAlign(regionBytes);
        return index -> {
            long at = ctx.arena(bytes);
            long[] base = {mm.mmapDriver(at, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, ops, 0)};
            long pages = pages(bytes);
            long[] next = {0};
            return rec -> {
                long addr = base[0] + next[0] * PAGE_SIZE;
                long t = rec.start();
                mm.read(addr);
                rec.record("fault", t);
                if (++next[0] == pages) {
                    next[0] = 0;
                    mm.munmap(base[0], bytes);
                    base[0] = mm.mmapDriver(at, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, ops, 0);
                }
            };
        };
    }

    /**
     * Maps {@code count} one-page VMAs a page apart (so none merges) in one arena: the background of a
     * large address space. Returns the arena base.
     */
    public static long backgroundVmas(ScenarioContext ctx, int count) {
        Mm mm = ctx.mm();
        long base = ctx.arena(2L * count * PAGE_SIZE);
        for (int i = 0; i < count; i++) {
            mm.mmapAnon(base + 2L * i * PAGE_SIZE, PAGE_SIZE, (i & 1) == 0 ? PROT_READ : PROT_READ | PROT_WRITE, MAP_FIXED);
        }
        return base;
    }
}
