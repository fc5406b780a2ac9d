package dev.mmlab.rangelock;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.mm.Mm;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The multi-threaded random workload: each worker owns a region (64 MiB apart from the next) in which it
 * maps, unmaps, mprotects, madvises, mremaps, reads and writes while keeping a page-by-page model of what
 * must be there; optionally all workers also share one region in which each writes only its own pages (page
 * index modulo workers) and changes VMAs only in ways that keep every page's content and access
 * (MADV_HUGEPAGE/NOHUGEPAGE, mprotect RW/RWX), which splits and merges VMAs under everyone's faults. Every
 * read is checked against the model (no lost writes), and {@link #verify} reads every page at the end.
 */
final class RandomWorkload {
    static final long REGION_STRIDE = 64L << 20;
    static final long REGION_BASE = 0x100000000L;
    static final int REGION_PAGES = 1024;
    static final long SHARED_BASE = 0x200000000L;
    static final int SHARED_PAGES = 2048;

    private final Mm mm;
    private final int workers;
    private final boolean shared;
    private final boolean procReaders;
    private final Worker[] state;

    RandomWorkload(Mm mm, int workers, boolean shared, boolean procReaders) {
        this.mm = mm;
        this.workers = workers;
        this.shared = shared;
        this.procReaders = procReaders;
        this.state = new Worker[workers];
        for (int i = 0; i < workers; i++) {
            state[i] = new Worker(i, 1234 + i);
        }
        if (shared) {
            mm.mmapAnon(SHARED_BASE, SHARED_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
        }
    }

    /** Runs every worker for {@code millis}; returns the number of operations done. Rethrows a worker's failure. */
    long run(long millis) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        try {
            List<Future<Long>> futures = new ArrayList<>();
            for (Worker w : state) {
                futures.add(pool.submit(() -> w.runUntil(deadline)));
            }
            long ops = 0;
            for (Future<Long> f : futures) {
                ops += f.get();
            }
            return ops;
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    /** After {@link #run}: every page of every region holds what its model says. */
    void verify() {
        for (Worker w : state) {
            w.verifyAll();
        }
    }

    private final class Worker {
        private final int id;
        private final SplittableRandom random;
        private final long base;
        private final boolean[] mapped = new boolean[REGION_PAGES];
        private final boolean[] writable = new boolean[REGION_PAGES];
        private final long[] expected = new long[REGION_PAGES];
        /** This worker's pages of the shared region: index / workers. */
        private final long[] sharedExpected = new long[SHARED_PAGES];
        private long seq;

        Worker(int id, long seed) {
            this.id = id;
            this.random = new SplittableRandom(seed);
            this.base = REGION_BASE + id * REGION_STRIDE;
        }

        long runUntil(long deadline) {
            long ops = 0;
            while (System.nanoTime() < deadline) {
                for (int i = 0; i < 64; i++) {
                    if (shared && random.nextInt(100) < 30) {
                        sharedOp();
                    } else {
                        ownOp();
                    }
                    ops++;
                }
            }
            return ops;
        }

        private long token() {
            return ((long) (id + 1) << 48) | ++seq;
        }

        private long addr(int page) {
            return base + (long) page * PAGE_SIZE;
        }

        private void ownOp() {
            int roll = random.nextInt(100);
            int p = random.nextInt(REGION_PAGES);
            int n = 1 + random.nextInt(Math.min(64, REGION_PAGES - p));
            if (roll < 38) {
                write(p);
            } else if (roll < 68) {
                read(p);
            } else if (roll < 75) {
                mm.mmapAnon(addr(p), n * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                for (int i = p; i < p + n; i++) {
                    mapped[i] = true;
                    writable[i] = true;
                    expected[i] = 0;
                }
            } else if (roll < 81) {
                mm.munmap(addr(p), n * PAGE_SIZE);
                for (int i = p; i < p + n; i++) {
                    mapped[i] = false;
                }
            } else if (roll < 87) {
                mprotect(p, n);
            } else if (roll < 92) {
                dontneed(p, n);
            } else if (roll < 97 || !procReaders) {
                mremap(p, n);
            } else if (roll < 99) {
                mm.procMaps();
            } else {
                mm.smaps();
            }
        }

        private void write(int p) {
            long value = token();
            try {
                mm.write(addr(p), value);
                check(mapped[p] && writable[p], "write succeeded at unmapped or read-only page " + p);
                expected[p] = value;
            } catch (MemoryAccessException e) {
                check(!mapped[p] || !writable[p], "write failed at mapped writable page " + p + ": " + e.getMessage());
                check(e.outcome() == (mapped[p] ? FaultOutcome.ACCESS : FaultOutcome.SEGV), "wrong outcome " + e.getMessage());
            }
        }

        private void read(int p) {
            try {
                long got = mm.read(addr(p));
                check(mapped[p], "read succeeded at unmapped page " + p);
                check(got == expected[p], "lost write at page " + p + " of worker " + id + ": read " + Long.toHexString(got)
                        + ", expected " + Long.toHexString(expected[p]));
            } catch (MemoryAccessException e) {
                check(!mapped[p] && e.outcome() == FaultOutcome.SEGV, "read failed at mapped page " + p + ": " + e.getMessage());
            }
        }

        private void mprotect(int p, int n) {
            for (int i = p; i < p + n; i++) {
                if (!mapped[i]) {
                    return;
                }
            }
            boolean w = random.nextBoolean();
            mm.mprotect(addr(p), n * PAGE_SIZE, w ? PROT_READ | PROT_WRITE : PROT_READ);
            for (int i = p; i < p + n; i++) {
                writable[i] = w;
            }
        }

        private void dontneed(int p, int n) {
            boolean hole = false;
            for (int i = p; i < p + n; i++) {
                if (mapped[i]) {
                    expected[i] = 0;
                } else {
                    hole = true;
                }
            }
            try {
                mm.madvise(addr(p), n * PAGE_SIZE, MADV_DONTNEED);
                check(!hole, "madvise over a hole succeeded");
            } catch (ErrnoException e) {
                check(hole && e.errno() == Errno.ENOMEM, "madvise failed: " + e.getMessage());
            }
        }

        /** Move n pages from p to a disjoint place in the region; only when page p is mapped (else EFAULT). */
        private void mremap(int p, int n) {
            if (!mapped[p]) {
                return;
            }
            int d = random.nextInt(REGION_PAGES - n + 1);
            if (d < p + n && p < d + n) {
                return;
            }
            mm.mremap(addr(p), n * PAGE_SIZE, n * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, addr(d));
            boolean[] m = new boolean[n];
            boolean[] w = new boolean[n];
            long[] e = new long[n];
            for (int i = 0; i < n; i++) {
                m[i] = mapped[p + i];
                w[i] = writable[p + i];
                e[i] = expected[p + i];
                mapped[p + i] = false;
            }
            // Each VMA of the old range moves on its own (Linux 6.17+): the target is replaced only where a
            // VMA lands, and what the target had opposite a gap stays.
            for (int i = 0; i < n; i++) {
                if (m[i]) {
                    mapped[d + i] = true;
                    writable[d + i] = w[i];
                    expected[d + i] = e[i];
                }
            }
        }

        private void sharedOp() {
            int roll = random.nextInt(100);
            int p = random.nextInt(SHARED_PAGES);
            long a = SHARED_BASE + (long) p * PAGE_SIZE;
            if (roll < 45) {
                int mine = p - p % workers + id;
                if (mine < SHARED_PAGES) {
                    long value = token();
                    mm.write(SHARED_BASE + (long) mine * PAGE_SIZE, value);
                    sharedExpected[mine] = value;
                }
            } else if (roll < 90) {
                long got = mm.read(a);
                int owner = p % workers;
                check(got == 0 || (got >>> 48) == owner + 1, "page " + p + " of the shared region holds "
                        + Long.toHexString(got) + ", not a value of its owner " + owner);
                if (owner == id) {
                    check(got == sharedExpected[p], "lost write at shared page " + p);
                }
            } else {
                int n = 1 + random.nextInt(Math.min(256, SHARED_PAGES - p));
                switch (random.nextInt(4)) {
                    case 0 -> mm.madvise(a, n * PAGE_SIZE, MADV_HUGEPAGE);
                    case 1 -> mm.madvise(a, n * PAGE_SIZE, MADV_NOHUGEPAGE);
                    case 2 -> mm.mprotect(a, n * PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
                    default -> mm.mprotect(a, n * PAGE_SIZE, PROT_READ | PROT_WRITE);
                }
            }
        }

        void verifyAll() {
            for (int p = 0; p < REGION_PAGES; p++) {
                read(p);
            }
            if (shared) {
                for (int p = id; p < SHARED_PAGES; p += workers) {
                    long got = mm.read(SHARED_BASE + (long) p * PAGE_SIZE);
                    check(got == sharedExpected[p], "lost write at shared page " + p + " of worker " + id);
                }
            }
        }

        private void check(boolean ok, String message) {
            if (!ok) {
                throw new AssertionError("worker " + id + ": " + message);
            }
        }
    }
}
