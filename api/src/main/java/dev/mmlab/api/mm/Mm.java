package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.Access;
import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmFlags;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mem.PageAllocator;
import dev.mmlab.api.pgtable.PageTables;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.stats.Counters;
import dev.mmlab.api.stats.LockWaitRecorder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * One process address space: the syscalls a program makes, the CPU's accesses, and the readers a monitor
 * uses, all safe to call from many threads at once. Locking is the strategy's; everything else (VMAs,
 * split and merge, page tables, pages) is this shared engine, so strategies are compared on the same work.
 *
 * <p>How a syscall runs: validate the arguments (a bad call changes nothing); ask the strategy's
 * {@link MmLock} for the range it needs; plan the VMA change against the current tree; if the plan touches
 * more than the guard covers, release and lock wider; isolate what the plan touches
 * ({@link MmLockGuard#startWrite}); run driver callbacks; publish the new VMAs in one replace; zap the page
 * tables of what went away; release.
 *
 * <p>Errors are {@link ErrnoException}s with Linux's errno. Where Linux keeps part of a call that failed
 * (mprotect, mlock and madvise stopping at a hole), so does this class, and the method says so.
 */
public final class Mm {
    /** {@code stack_guard_gap}: 256 pages kept free below a growsdown VMA. */
    public static final long STACK_GUARD_GAP = 256 * PAGE_SIZE;
    /** {@code RLIMIT_STACK} default. */
    public static final long STACK_LIMIT = 8L << 20;
    /** A /proc/pid/maps read() returns at most this much, taking the lock once ({@code seq_file} buffer). */
    static final int PROC_CHUNK_BYTES = 4096;

    private final LockingStrategy strategy;
    private final StrategyConfig strategyConfig;
    private final MmConfig config;
    private final Counters counters = new Counters();
    private final LockWaitRecorder waits = new LockWaitRecorder();
    private final StrategyInstance parts;
    private final MmLock lock;
    private final FaultHandler faultHandler;
    private final VmaTree tree;
    private final PageTables pageTables = new PageTables();
    private final FaultEngine faultEngine;
    private final Map<Page, AtomicInteger> pins = new ConcurrentHashMap<>();
    private final ReentrantLock brkMutex = new ReentrantLock();
    private final AtomicLong nextShmemInode = new AtomicLong(1);
    private final Supplier<Object> lockStateFactory;
    private final java.util.Set<BackingFile> filesSeen = ConcurrentHashMap.newKeySet();
    private volatile long startBrk;
    private volatile long brk;
    private volatile long startStack;
    private volatile long argStart;
    private volatile long argEnd;
    private volatile long defFlags;

    private Mm(LockingStrategy strategy, StrategyConfig strategyConfig, MmConfig config) {
        this.strategy = strategy;
        this.strategyConfig = strategyConfig;
        this.config = config;
        this.parts = strategy.create(strategyConfig, new MmContext() {
            @Override
            public Counters counters() {
                return counters;
            }

            @Override
            public LockWaitRecorder waits() {
                return waits;
            }

            @Override
            public boolean checking() {
                return config.checking();
            }
        });
        this.lock = parts.mmLock();
        this.faultHandler = parts.faultHandler();
        this.tree = parts.vmaTree();
        this.lockStateFactory = parts::newVmaState;
        this.startBrk = config.startBrk();
        this.brk = config.startBrk();
        this.faultEngine = new FaultEngine(this);
    }

    /** A new, empty address space driven by {@code selected}. */
    public static Mm create(Strategies.Selected selected, MmConfig config) {
        return new Mm(selected.strategy(), selected.config(), config);
    }

    /** A new, empty address space driven by {@code strategy} with {@code strategyConfig}. */
    public static Mm create(LockingStrategy strategy, StrategyConfig strategyConfig, MmConfig config) {
        return new Mm(strategy, strategyConfig, config);
    }

    // ------------------------------------------------------------------ accessors

    public LockingStrategy strategy() {
        return strategy;
    }

    public StrategyConfig strategyConfig() {
        return strategyConfig;
    }

    public StrategyInstance parts() {
        return parts;
    }

    public MmConfig config() {
        return config;
    }

    public VmaTree tree() {
        return tree;
    }

    public PageTables pageTables() {
        return pageTables;
    }

    public PageAllocator allocator() {
        return config.allocator();
    }

    public Counters counters() {
        return counters;
    }

    public LockWaitRecorder waits() {
        return waits;
    }

    public MmLock mmLock() {
        return lock;
    }

    /** Pages pinned by {@link #getUserPages} and not yet unpinned, with their pin counts. */
    public Map<Page, Integer> pins() {
        Map<Page, Integer> out = new java.util.HashMap<>();
        pins.forEach((p, n) -> {
            if (n.get() > 0) {
                out.put(p, n.get());
            }
        });
        return out;
    }

    /** get_user_pages pins currently held on {@code page} through this mm (0 when none). Never blocks. */
    int pinCount(Page page) {
        AtomicInteger n = pins.get(page);
        return n == null ? 0 : Math.max(0, n.get());
    }

    /** Every file this address space has mapped (its page cache may hold pages after the unmap). */
    public java.util.Set<BackingFile> filesSeen() {
        return java.util.Collections.unmodifiableSet(filesSeen);
    }

    public long startBrk() {
        return startBrk;
    }

    public long brkValue() {
        return brk;
    }

    public long startStack() {
        return startStack;
    }

    /** Where brk starts; as exec sets it. Only before the heap exists. */
    public void setStartBrk(long address) {
        if (!isPageAligned(address) || brk != startBrk) {
            throw new IllegalStateException("start_brk can be set only before the heap grows, page aligned");
        }
        startBrk = address;
        brk = address;
    }

    /** Marks {@code address} as the initial stack pointer: the VMA containing it is shown as [stack]. */
    public void setStartStack(long address) {
        startStack = address;
    }

    // ------------------------------------------------------------------ locking helpers

    /** Thrown inside a locked body when its plan needs more than the guard covers; never escapes. */
    private static final class NeedsWiderLock extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final long start;
        final long end;
        final boolean coarse;
        final boolean write;

        NeedsWiderLock(long start, long end, boolean coarse) {
            this(start, end, coarse, false);
        }

        NeedsWiderLock(long start, long end, boolean coarse, boolean write) {
            super(null, null, false, false);
            this.start = start;
            this.end = end;
            this.coarse = coarse;
            this.write = write;
        }
    }

    /**
     * Run {@code body} under a guard for {@code intent}, widening and retrying when the body finds its plan
     * needs more. The body must not change anything before it has checked coverage.
     */
    private <T> T locked(LockIntent intent, Function<MmLockGuard, T> body) {
        LockIntent current = intent;
        for (int attempt = 0;; attempt++) {
            MmLockGuard guard = lock.lock(current);
            try {
                return body.apply(guard);
            } catch (NeedsWiderLock wider) {
                if (wider.write && !current.isWrite()) {
                    counters.increment("engine.relock");
                    current = current.asCoarse().withMode(LockIntent.Mode.WRITE);
                    continue;
                }
                if (current.isCoarse()) {
                    throw new IllegalStateException(strategy.name() + ": a coarse guard does not cover "
                            + hex(wider.start) + "-" + hex(wider.end) + " for " + current);
                }
                counters.increment("engine.relock");
                current = wider.coarse || attempt >= 2 ? current.asCoarse()
                        : current.withRange(Math.min(current.start(), wider.start), Math.max(current.end(), wider.end));
            } finally {
                guard.close();
            }
        }
    }

    private static void requireCovers(MmLockGuard guard, long start, long end, boolean write) {
        if (!guard.covers(start, end, write)) {
            throw new NeedsWiderLock(start, end, false);
        }
    }

    private static void requireCoarse(MmLockGuard guard, LockNeed need) {
        if (need != LockNeed.FINE && !guard.coarseLevel().atLeast(need)) {
            throw new NeedsWiderLock(0, 0, true, need == LockNeed.COARSE_WRITE);
        }
    }

    /** The lock range a change of {@code [start, end)} is expected to need: it plus adjacent VMAs it may merge with. */
    private LockIntent intentWithNeighbours(OpKind op, long start, long end) {
        long lo = start;
        long hi = end;
        Vma prev = tree.findPrev(start);
        if (prev != null && prev.end() >= start) {
            lo = Math.min(lo, prev.start());
        }
        Vma next = tree.findNext(end);
        if (next != null && next.start() <= end) {
            hi = Math.max(hi, next.end());
        }
        return LockIntent.of(op, LockIntent.Mode.WRITE, start, end).withRange(lo, hi);
    }

    /** The VMAs overlapping {@code [start, end)} plus those adjacent to it, in order. */
    private List<Vma> window(long start, long end) {
        List<Vma> window = new ArrayList<>();
        Vma prev = tree.findPrev(start);
        if (prev != null && prev.end() == start) {
            window.add(prev);
        }
        window.addAll(tree.overlapping(start, end));
        Vma next = tree.find(end);
        if (next != null && next.start() == end) {
            window.add(next);
        }
        return window;
    }

    private <T> T counted(OpKind op, Supplier<T> call) {
        try {
            T result = call.get();
            counters.increment(op.label() + ".ok");
            return result;
        } catch (ErrnoException e) {
            counters.increment(op.label() + "." + e.errno());
            throw e;
        }
    }

    // ------------------------------------------------------------------ applying a plan

    /**
     * Publish {@code edit} under {@code guard}: check coverage and driver lock needs, isolate, run
     * {@code open} callbacks, replace, zap, run {@code close} callbacks. Nothing is changed if a check fails.
     */
    private void apply(MmLockGuard guard, VmaLayout.Edit edit, boolean downgradeForZap) {
        if (edit.isEmpty() && edit.unmapped.isEmpty()) {
            return;
        }
        requireCovers(guard, edit.lockStart, edit.lockEnd, true);
        LockNeed need = LockNeed.FINE;
        for (Vma v : edit.opened) {
            need = max(need, v.lockNeed(VmOpsCallback.OPEN));
        }
        for (Vma v : edit.closed) {
            need = max(need, v.lockNeed(VmOpsCallback.CLOSE));
        }
        requireCoarse(guard, need);
        for (Vma v : edit.removed) {
            guard.startWrite(v);
        }
        for (Vma v : edit.added) {
            guard.prepareNew(v);
        }
        runDriverCallbacks(guard, VmOpsCallback.OPEN, edit.opened);
        tree.replace(edit.removed, edit.added);
        for (Vma v : edit.added) {
            if (v.file() != null) {
                v.file().vmaAdded();
                filesSeen.add(v.file());
            }
        }
        for (Vma v : edit.removed) {
            v.markDetached();
        }
        // A driver whose close needs the write lock keeps it: no downgrade then.
        if (downgradeForZap && !need.atLeast(LockNeed.COARSE_WRITE)) {
            guard.downgrade();
        }
        for (long[] range : edit.unmapped) {
            zap(range[0], range[1]);
        }
        for (long[] range : edit.unmapped) {
            freeTables(range[0], range[1]);
        }
        for (Vma v : edit.removed) {
            if (v.file() != null) {
                v.file().vmaRemoved();
            }
        }
        runDriverCallbacks(guard, VmOpsCallback.CLOSE, edit.closed);
    }

    private static LockNeed max(LockNeed a, LockNeed b) {
        return a.atLeast(b) ? a : b;
    }

    private void runDriverCallbacks(MmLockGuard guard, VmOpsCallback callback, List<Vma> vmas) {
        ErrnoException first = null;
        for (Vma v : vmas) {
            try {
                VmOpsContext ctx = driverContext(callback, n -> guard.coarseLevel().atLeast(n), v);
                if (callback == VmOpsCallback.OPEN) {
                    v.ops().open(ctx, v);
                } else {
                    v.ops().close(ctx, v);
                }
            } catch (RuntimeException e) {
                if (e instanceof IllegalStateException && config.checking()) {
                    throw e;
                }
                counters.increment("driver." + v.ops().name() + "." + callback.name().toLowerCase() + "_error");
                if (first == null) {
                    first = new ErrnoException(Errno.EIO, "driver " + v.ops().name() + " failed in "
                            + callback.name().toLowerCase() + " for " + v + ": " + e.getMessage(), e);
                }
                if (callback == VmOpsCallback.OPEN) {
                    throw first;
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    /** A context for a driver callback; {@code holds} answers what the running thread holds. */
    VmOpsContext driverContext(VmOpsCallback callback, Predicate<LockNeed> holds, Vma vma) {
        return new VmOpsContext() {
            @Override
            public PageAllocator allocator() {
                return config.allocator();
            }

            @Override
            public VmOpsCallback callback() {
                return callback;
            }

            @Override
            public LockNeed held() {
                return holds.test(LockNeed.COARSE_WRITE) ? LockNeed.COARSE_WRITE
                        : holds.test(LockNeed.COARSE_READ) ? LockNeed.COARSE_READ : LockNeed.FINE;
            }

            @Override
            public void assertLocked() {
                check(LockNeed.COARSE_READ, "mmap_assert_locked");
            }

            @Override
            public void assertWriteLocked() {
                check(LockNeed.COARSE_WRITE, "mmap_assert_write_locked");
            }

            private void check(LockNeed need, String what) {
                counters.increment("driver." + vma.ops().name() + ".assert");
                if (config.checking() && !holds.test(need)) {
                    counters.increment("driver." + vma.ops().name() + ".assert_failed");
                    throw new IllegalStateException("driver " + vma.ops().name() + ": " + what + " failed in "
                            + callback.name().toLowerCase() + " under " + strategy.name() + ": it holds " + held()
                            + " but relies on " + need + "; declare lockNeed(" + callback + ") = " + need);
                }
            }
        };
    }

    /** Clear every PTE in {@code [start, end)}, dropping the pages' references. */
    private void zap(long start, long end) {
        for (PteTable table : pageTables.tables(start, end)) {
            long lo = Math.max(start, table.base());
            long hi = Math.min(end, table.base() + PMD_SIZE);
            table.ptl().lock();
            try {
                if (table.present() == 0) {
                    continue;
                }
                for (long a = lo; a < hi; a += PAGE_SIZE) {
                    Page p = table.clear(a);
                    if (p != null) {
                        p.put();
                    }
                }
            } finally {
                table.ptl().unlock();
            }
        }
    }

    /** {@code free_pgtables}: free PTE tables in {@code [start, end)} that no VMA covers any more. */
    private void freeTables(long start, long end) {
        for (PteTable table : pageTables.tables(start, end)) {
            if (tree.overlapping(table.base(), table.base() + PMD_SIZE).isEmpty()) {
                pageTables.freeTableIfEmpty(table);
            }
        }
    }

    // ------------------------------------------------------------------ mmap

    /** {@code mmap} of private anonymous memory ({@code MAP_PRIVATE | MAP_ANONYMOUS | extraFlags}). */
    public long mmapAnon(long addr, long len, int prot, int extraFlags) {
        return mmap(addr, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | extraFlags, null, 0);
    }

    /**
     * {@code mmap(2)}. {@code file} is the descriptor's file (ignored with {@code MAP_ANONYMOUS}). Returns the
     * address. {@code MAP_POPULATE} and {@code MAP_LOCKED} populate on a best-effort basis: a failure to
     * populate does not fail the mmap, as in Linux.
     *
     * @throws ErrnoException EINVAL (zero or unaligned arguments, bad flags), EBADF (no file), EACCES (the file's
     *         mode forbids the mapping), ENOMEM (no room, or out of range), EEXIST ({@code MAP_FIXED_NOREPLACE}
     *         over a mapping), EPERM (fixed below mmap_min_addr), EOVERFLOW (offset overflow), EOPNOTSUPP
     *         (unknown flag with {@code MAP_SHARED_VALIDATE}), EINTR; in every case nothing changed
     */
    public long mmap(long addr, long len, int prot, int flags, OpenFile file, long offset) {
        return counted(OpKind.MMAP, () -> doMmap(addr, len, prot, flags, file, offset, null));
    }

    /**
     * {@code mmap} of a device whose driver is {@code ops}: like a file mapping of the device node; the driver's
     * {@code mmap} hook may refuse it or add flags.
     */
    public long mmapDriver(long addr, long len, int prot, int flags, VmOps ops, long offset) {
        if (ops == null) {
            throw new ErrnoException(Errno.ENODEV, "mmapDriver needs a driver");
        }
        return counted(OpKind.MMAP, () -> doMmap(addr, len, prot, flags, null, offset, ops));
    }

    /**
     * {@code LEGACY_MAP_MASK}: the flags {@code MAP_SHARED_VALIDATE} accepts for a file. {@code MAP_FIXED_NOREPLACE}
     * and {@code MAP_SYNC} are not in it (MAP_SYNC only for DAX files, which the model has none of).
     */
    private static final int LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE
            | MAP_EXECUTABLE | 0x4000000 /* MAP_UNINITIALIZED */ | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE
            | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT | (21 << 26) | (30 << 26) /* MAP_HUGE_2MB, _1GB */;

    /*
     * Argument checks follow the order of sys_mmap, ksys_mmap_pgoff, do_mmap and __get_unmapped_area, so a call
     * with two faults reports the errno Linux reports.
     */
    private long doMmap(long addr, long len, int prot, int flags, OpenFile file, long offset, VmOps ops) {
        if (!isPageAligned(offset)) {
            throw ErrnoException.of(Errno.EINVAL, "offset %#x is not page aligned", offset);
        }
        boolean anonymous = (flags & MAP_ANONYMOUS) != 0 && ops == null;
        if (ops == null && !anonymous && file == null) {
            throw new ErrnoException(Errno.EBADF, "a file mapping needs an open file (or MAP_ANONYMOUS)");
        }
        int type = flags & MAP_TYPE;
        if (len == 0) {
            throw new ErrnoException(Errno.EINVAL, "length is zero");
        }
        long length = pageAlign(len);
        if (length == 0 || len < 0 || length > TASK_SIZE) {
            throw ErrnoException.of(Errno.ENOMEM, "length %#x is larger than the address space", len);
        }
        long pgoff = anonymous ? 0 : offset >>> PAGE_SHIFT;
        if (!anonymous && (offset < 0 || pgoff + pages(length) < pgoff)) {
            throw ErrnoException.of(Errno.EOVERFLOW, "offset %#x plus length %#x overflows", offset, length);
        }
        boolean fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
        if (fixed && (addr < 0 || addr > TASK_SIZE - length)) {
            throw ErrnoException.of(Errno.ENOMEM, "range %#x+%#x is outside user space", addr, length);
        }
        if (fixed && !isPageAligned(addr)) {
            throw ErrnoException.of(Errno.EINVAL, "MAP_FIXED address %#x is not page aligned", addr);
        }
        if (fixed && addr < MMAP_MIN_ADDR) {
            throw ErrnoException.of(Errno.EPERM, "address %#x is below mmap_min_addr (%#x)", addr, MMAP_MIN_ADDR);
        }
        if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE) {
            throw ErrnoException.of(Errno.EINVAL, "flags %#x: exactly one of MAP_SHARED, MAP_PRIVATE or MAP_SHARED_VALIDATE is required", flags);
        }
        if (type == MAP_SHARED_VALIDATE && !anonymous && (flags & ~LEGACY_MAP_MASK) != 0) {
            throw ErrnoException.of(Errno.EOPNOTSUPP, "MAP_SHARED_VALIDATE with flags %#x this file does not support", flags & ~LEGACY_MAP_MASK);
        }
        if (type == MAP_SHARED_VALIDATE && anonymous && (flags & ~MAP_KNOWN) != 0) {
            throw ErrnoException.of(Errno.EOPNOTSUPP, "MAP_SHARED_VALIDATE with unknown flags %#x", flags & ~MAP_KNOWN);
        }
        boolean shared = type != MAP_PRIVATE;
        long vmFlags = VmFlags.fromProt(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | defFlags;
        if ((flags & MAP_GROWSDOWN) != 0) {
            vmFlags |= VM_GROWSDOWN;
        }
        if ((flags & MAP_LOCKED) != 0) {
            vmFlags |= VM_LOCKED;
        }
        if ((flags & MAP_STACK) != 0) {
            // calc_vm_flag_bits (6.7+, with THP): a thread stack is never backed by huge pages.
            vmFlags |= VM_NOHUGEPAGE;
        }
        if ((flags & MAP_NORESERVE) != 0) {
            vmFlags |= VM_NORESERVE;
        }
        BackingFile backing = null;
        if (ops == null && !anonymous) {
            if (file == null) {
                throw new ErrnoException(Errno.EBADF, "a file mapping needs an open file (or MAP_ANONYMOUS)");
            }
            if (shared) {
                if ((prot & PROT_WRITE) != 0 && !file.writable()) {
                    throw new ErrnoException(Errno.EACCES, "MAP_SHARED with PROT_WRITE needs a file opened for writing: " + file.file().path());
                }
                vmFlags |= VM_SHARED | VM_MAYSHARE;
                if (!file.writable()) {
                    vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
                }
            }
            if (!file.readable()) {
                throw new ErrnoException(Errno.EACCES, "mapping needs a file opened for reading: " + file.file().path());
            }
            if ((vmFlags & VM_GROWSDOWN) != 0) {
                throw new ErrnoException(Errno.EINVAL, "MAP_GROWSDOWN is only for anonymous memory");
            }
            backing = file.file();
        } else if (anonymous && shared) {
            if ((vmFlags & VM_GROWSDOWN) != 0) {
                throw new ErrnoException(Errno.EINVAL, "MAP_GROWSDOWN is not allowed for shared memory");
            }
            vmFlags |= VM_SHARED | VM_MAYSHARE;
            backing = BackingFile.shmem(nextShmemInode.getAndIncrement(), length, config.allocator());
        } else if (ops != null && shared) {
            vmFlags |= VM_SHARED | VM_MAYSHARE;
        }
        if (ops != null) {
            // A driver that serves pages from a page cache (a file, shmem) names the file: it becomes vm_file.
            backing = ops.vmFile(config.allocator());
        }
        if ((vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE) {
            vmFlags |= VM_ACCOUNT;
        }
        boolean noreplace = (flags & MAP_FIXED_NOREPLACE) != 0;
        boolean populate = ((flags & MAP_POPULATE) != 0 && (flags & MAP_NONBLOCK) == 0) || (vmFlags & VM_LOCKED) != 0;
        // __get_unmapped_area: the THP path is for anonymous memory without MAP_SHARED (shmem has its own).
        boolean thpAlign = anonymous && !shared;
        long peek = fixed ? addr : unmappedArea(addr, length, thpAlign);
        long finalFlags = vmFlags;
        BackingFile finalBacking = backing;
        LockIntent intent = intentWithNeighbours(OpKind.MMAP, peek, peek + length);
        long[] placed = new long[2];
        locked(intent, guard -> {
            long at = peek;
            if (!fixed) {
                if (guard.intent().isCoarse()) {
                    at = unmappedArea(addr, length, thpAlign);
                } else if (!tree.overlapping(at, at + length).isEmpty()) {
                    // Someone took the gap between our look and our lock: search again under the coarse lock.
                    throw new NeedsWiderLock(0, 0, true);
                }
            }
            if (noreplace && !tree.overlapping(at, at + length).isEmpty()) {
                throw ErrnoException.of(Errno.EEXIST, "MAP_FIXED_NOREPLACE range %#x-%#x overlaps %s", at, at + length,
                        tree.overlapping(at, at + length).get(0));
            }
            long vmaPgoff = anonymous && !shared ? at >>> PAGE_SHIFT : pgoff;
            Vma vma = new Vma(at, at + length, finalFlags, vmaPgoff, finalBacking, ops, null, lockStateFactory.get());
            if (ops != null) {
                requireCovers(guard, at, at + length, true);
                requireCoarse(guard, ops.lockNeed(VmOpsCallback.MMAP));
                long driverFlags = callDriverMmap(guard, vma);
                if (driverFlags != vma.flags()) {
                    vma = vma.withFlags(driverFlags, vma.lockState());
                }
            }
            List<Vma> window = window(at, at + length);
            VmaLayout.Edit unmap = VmaLayout.plan(window, at, at + length, VmaLayout.UNMAP_ALL, lockStateFactory);
            List<Vma> afterUnmap = new ArrayList<>(window);
            afterUnmap.removeAll(unmap.removed);
            afterUnmap.addAll(unmap.added);
            afterUnmap.sort(java.util.Comparator.comparingLong(Vma::start));
            VmaLayout.Edit insert = VmaLayout.insert(afterUnmap, vma, lockStateFactory);
            apply(guard, combine(unmap, insert), false);
            placed[0] = at;
            placed[1] = populate && !guard.dropsForPopulate() ? 1 : 0;
            if (placed[1] == 1) {
                populate(guard, at, at + length);
            }
            // mm_populate ignores errors; the new range is one VMA, so stopping at the first is the same.
            return null;
        });
        if (populate && placed[1] == 0) {
            populate(null, placed[0], placed[0] + length);
        }
        return placed[0];
    }

    private long callDriverMmap(MmLockGuard guard, Vma vma) {
        try {
            return vma.ops().mmap(driverContext(VmOpsCallback.MMAP, n -> guard.coarseLevel().atLeast(n), vma), vma);
        } catch (ErrnoException e) {
            throw e;
        } catch (RuntimeException e) {
            if (e instanceof IllegalStateException && config.checking()) {
                throw e;
            }
            throw new ErrnoException(Errno.EIO, "driver " + vma.ops().name() + " failed in mmap: " + e.getMessage(), e);
        }
    }

    /** One edit doing {@code first} then {@code second}, where {@code second} was planned on {@code first}'s result. */
    private static VmaLayout.Edit combine(VmaLayout.Edit first, VmaLayout.Edit second) {
        VmaLayout.Edit edit = new VmaLayout.Edit();
        java.util.Set<Vma> firstAdded = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        firstAdded.addAll(first.added);
        edit.removed.addAll(first.removed);
        for (Vma v : second.removed) {
            if (!firstAdded.remove(v)) {
                edit.removed.add(v);
            }
        }
        edit.added.addAll(firstAdded);
        edit.added.addAll(second.added);
        edit.opened.addAll(first.opened);
        edit.closed.addAll(first.closed);
        VmaLayout.retainOpened(edit);
        edit.unmapped.addAll(first.unmapped);
        edit.lockStart = Math.min(first.lockStart, second.lockStart);
        edit.lockEnd = Math.max(first.lockEnd, second.lockEnd);
        return edit;
    }

    /** {@code TASK_UNMAPPED_BASE} (x86-64, no randomization): where the bottom-up fallback search starts. */
    static final long MMAP_LEGACY_BASE = pageAlign(TASK_SIZE / 3);

    /**
     * {@code __get_unmapped_area} for x86-64's top-down layout. A free hint wins (rounded as
     * {@code round_hint_to_min} does). With no hint, private anonymous memory ({@code thpEligible}) whose length
     * is a multiple of 2 MiB is THP aligned as Linux 6.18's {@code __thp_get_unmapped_area} does it: search for
     * the length plus 2 MiB, then round up inside that padding; if even the padded search fails, search
     * unaligned. Otherwise the highest gap below mmap_base that fits, then, as
     * {@code arch_get_unmapped_area_topdown} falls back, the lowest gap above {@code TASK_UNMAPPED_BASE}.
     * Growsdown VMAs keep their guard gap ({@code vm_start_gap}). Reads the lockless snapshot; callers verify
     * under their lock. Never blocks.
     *
     * @throws ErrnoException ENOMEM when nothing fits
     */
    long unmappedArea(long hint, long length, boolean thpEligible) {
        if (length <= 0 || length > TASK_SIZE) {
            throw ErrnoException.of(Errno.ENOMEM, "no free range of %#x bytes", length);
        }
        List<Vma> all = tree.all();
        if (hint != 0) {
            long h = hint & PAGE_MASK;
            if (h < MMAP_MIN_ADDR) {
                h = pageAlign(MMAP_MIN_ADDR);
            }
            if (h >= 0 && h <= TASK_SIZE - length) {
                Vma next = tree.findNext(h);
                if (next == null || h + length <= startGap(next)) {
                    return h;
                }
            }
        } else if (thpEligible && length % PMD_SIZE == 0) {
            long padded = searchGap(all, length + PMD_SIZE);
            if (padded >= 0) {
                long offSub = -padded & (PMD_SIZE - 1);
                return offSub == 0 ? padded + PMD_SIZE : padded + offSub;
            }
        }
        long at = searchGap(all, length);
        if (at < 0) {
            throw ErrnoException.of(Errno.ENOMEM, "no free range of %#x bytes below %#x or above %#x", length,
                    config.mmapBase(), MMAP_LEGACY_BASE);
        }
        return at;
    }

    /** {@code vm_unmapped_area} top-down below mmap_base, then bottom-up above TASK_UNMAPPED_BASE; -1 if nothing fits. */
    private long searchGap(List<Vma> all, long length) {
        long high = config.mmapBase();
        for (int i = all.size(); i >= 0; i--) {
            long gapStart = i == 0 ? MMAP_MIN_ADDR : Math.max(MMAP_MIN_ADDR, all.get(i - 1).end());
            if (gapStart >= high) {
                continue;
            }
            long gapEnd = i == all.size() ? high : Math.min(high, startGap(all.get(i)));
            if (gapEnd - gapStart >= length) {
                return gapEnd - length;
            }
            if (i > 0 && all.get(i - 1).end() <= MMAP_MIN_ADDR) {
                break;
            }
        }
        for (int i = 0; i <= all.size(); i++) {
            long gapStart = i == 0 ? MMAP_LEGACY_BASE : Math.max(MMAP_LEGACY_BASE, all.get(i - 1).end());
            long gapEnd = i == all.size() ? TASK_SIZE : startGap(all.get(i));
            if (gapEnd <= MMAP_LEGACY_BASE) {
                continue;
            }
            if (gapEnd - gapStart >= length) {
                return gapStart;
            }
        }
        return -1;
    }

    /** {@code vm_start_gap}: a growsdown VMA keeps the guard gap free below it. */
    private static long startGap(Vma vma) {
        if (vma.has(VM_GROWSDOWN)) {
            long gap = vma.start() - STACK_GUARD_GAP;
            return gap > vma.start() ? 0 : gap;
        }
        return vma.start();
    }

    // ------------------------------------------------------------------ munmap

    /**
     * {@code munmap(2)}: unmap {@code [addr, addr + len)}; unmapping nothing succeeds. With a rwsem that
     * downgrades, the zap runs under the read lock.
     *
     * @throws ErrnoException EINVAL (unaligned, zero length, out of range), EINTR; nothing changed
     */
    public void munmap(long addr, long len) {
        counted(OpKind.MUNMAP, () -> {
            if (!isPageAligned(addr) || addr < 0 || addr > TASK_SIZE || len < 0 || len > TASK_SIZE - addr) {
                throw ErrnoException.of(Errno.EINVAL, "munmap(%#x, %#x): address must be page aligned and the range inside user space", addr, len);
            }
            long end = addr + pageAlign(len);
            if (end == addr) {
                throw new ErrnoException(Errno.EINVAL, "munmap with zero length");
            }
            locked(LockIntent.of(OpKind.MUNMAP, LockIntent.Mode.WRITE, addr, end), guard -> {
                unmapLocked(guard, addr, end, true);
                return null;
            });
            return null;
        });
    }

    private void unmapLocked(MmLockGuard guard, long start, long end, boolean downgrade) {
        List<Vma> overlapping = tree.overlapping(start, end);
        if (overlapping.isEmpty()) {
            return;
        }
        VmaLayout.Edit edit = VmaLayout.plan(overlapping, start, end, VmaLayout.UNMAP_ALL, lockStateFactory);
        apply(guard, edit, downgrade);
    }

    // ------------------------------------------------------------------ mprotect

    /**
     * {@code mprotect(2)}. Applies VMA by VMA from {@code addr}; as in Linux, a hole or a VMA that forbids the
     * new protection stops it with ENOMEM or EACCES <em>after</em> the VMAs before it were changed.
     *
     * @throws ErrnoException EINVAL (unaligned, unknown prot bits, both GROWSDOWN and GROWSUP), ENOMEM (range
     *         not fully mapped or overflowing), EACCES (a file mode forbids it), EINTR
     */
    public void mprotect(long addr, long len, int prot) {
        counted(OpKind.MPROTECT, () -> {
            int grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
            if (grows == (PROT_GROWSDOWN | PROT_GROWSUP)) {
                throw new ErrnoException(Errno.EINVAL, "PROT_GROWSDOWN and PROT_GROWSUP together");
            }
            if (!isPageAligned(addr)) {
                throw ErrnoException.of(Errno.EINVAL, "mprotect address %#x is not page aligned", addr);
            }
            if (len == 0) {
                return null;
            }
            long end = addr + pageAlign(len);
            if (end <= addr || len < 0) {
                throw ErrnoException.of(Errno.ENOMEM, "mprotect range %#x+%#x overflows", addr, len);
            }
            int plain = prot & ~(PROT_GROWSDOWN | PROT_GROWSUP);
            if ((plain & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) != 0) {
                throw ErrnoException.of(Errno.EINVAL, "unknown prot bits %#x", plain & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM));
            }
            long newProt = VmFlags.fromProt(plain);
            changeFlags(OpKind.MPROTECT, addr, end, (grows & PROT_GROWSDOWN) != 0, v -> {
                long flags = (v.flags() & ~VM_ACCESS_FLAGS) | newProt;
                if ((flags & ~(flags >> 4) & VM_ACCESS_FLAGS) != 0) {
                    throw ErrnoException.of(Errno.EACCES, "%s does not allow %s (the file was opened without it)", v, permString(newProt));
                }
                if ((flags & VM_WRITE) != 0) {
                    if ((v.flags() & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE)) == 0) {
                        flags |= VM_ACCOUNT;
                    }
                } else if (v.isAnonymous() && v.anon() == null) {
                    // Linux 6.7+ mprotect_fixup: an anon VMA made read-only before its first page gives its
                    // commit charge back, so it no longer merges with a VM_ACCOUNT neighbour.
                    flags &= ~VM_ACCOUNT;
                }
                return flags;
            }, true);
            return null;
        });
    }

    private static String permString(long flags) {
        return ((flags & VM_READ) != 0 ? "r" : "-") + ((flags & VM_WRITE) != 0 ? "w" : "-") + ((flags & VM_EXEC) != 0 ? "x" : "-");
    }

    /** A per-VMA flag computation that may throw to stop the walk at that VMA. */
    private interface FlagChange {
        long apply(Vma vma);
    }

    /**
     * The walk of mprotect and mlock: VMA by VMA from {@code start}, stopping with ENOMEM at a hole or with the
     * error a VMA's change throws, keeping what was done before. Updates PTE permissions where they shrink.
     */
    private void changeFlags(OpKind op, long start, long end, boolean growsDown, FlagChange change, boolean updatePtes) {
        locked(intentWithNeighbours(op, start, end), guard -> {
            long from = start;
            Vma first = tree.findNext(start);
            if (first == null || first.start() >= end) {
                throw ErrnoException.of(Errno.ENOMEM, "%#x-%#x is not mapped", start, end);
            }
            if (growsDown) {
                if (!first.has(VM_GROWSDOWN)) {
                    throw new ErrnoException(Errno.EINVAL, "PROT_GROWSDOWN on a VMA that does not grow down: " + first);
                }
                from = first.start();
            } else if (first.start() > start) {
                throw ErrnoException.of(Errno.ENOMEM, "%#x is not mapped", start);
            }
            // Plan every VMA first: coverage must be checked before anything changes.
            List<Vma> targets = tree.overlapping(from, end);
            long stopAt = end;
            ErrnoException stop = null;
            long expected = targets.get(0).start();
            List<Long> newFlags = new ArrayList<>();
            for (Vma v : targets) {
                if (v.start() != expected) {
                    stopAt = expected;
                    stop = ErrnoException.of(Errno.ENOMEM, "%#x-%#x is not mapped", expected, v.start());
                    break;
                }
                try {
                    newFlags.add(change.apply(v));
                } catch (ErrnoException e) {
                    stopAt = Math.max(from, v.start());
                    stop = e;
                    break;
                }
                expected = v.end();
            }
            if (stop == null && expected < end) {
                stopAt = expected;
                stop = ErrnoException.of(Errno.ENOMEM, "%#x-%#x is not mapped", expected, end);
            }
            long changeEnd = Math.min(stopAt, end);
            if (changeEnd > from) {
                Map<Vma, Long> byVma = new java.util.IdentityHashMap<>();
                for (int i = 0; i < newFlags.size(); i++) {
                    byVma.put(targets.get(i), newFlags.get(i));
                }
                long lo = from;
                VmaLayout.Edit edit = VmaLayout.plan(window(lo, changeEnd), lo, changeEnd,
                        v -> byVma.getOrDefault(v, v.flags()), lockStateFactory);
                apply(guard, edit, false);
                if (updatePtes) {
                    for (Vma v : edit.added) {
                        if (v.overlaps(lo, changeEnd)) {
                            restrictPtes(Math.max(v.start(), lo), Math.min(v.end(), changeEnd), v.flags());
                        }
                    }
                }
            }
            if (stop != null) {
                throw stop;
            }
            return null;
        });
    }

    /** {@code change_protection}: clear PTE permission bits the new flags no longer allow. */
    private void restrictPtes(long start, long end, long flags) {
        int mask = 0xff;
        if ((flags & VM_WRITE) == 0) {
            mask &= ~PteTable.WRITE;
        }
        if ((flags & VM_ACCESS_FLAGS) == 0) {
            mask &= ~(PteTable.READ | PteTable.WRITE);
        }
        if (mask == 0xff) {
            return;
        }
        for (PteTable table : pageTables.tables(start, end)) {
            table.ptl().lock();
            try {
                for (long a = Math.max(start, table.base()); a < Math.min(end, table.base() + PMD_SIZE); a += PAGE_SIZE) {
                    if (table.page(a) != null) {
                        table.setBits(a, table.bits(a) & mask);
                    }
                }
            } finally {
                table.ptl().unlock();
            }
        }
    }

    // ------------------------------------------------------------------ mlock

    /**
     * {@code mlock(2)}/{@code mlock2(2)}: set VM_LOCKED (with {@code MLOCK_ONFAULT}: VM_LOCKONFAULT too) and
     * populate. A hole stops it with ENOMEM after the VMAs before it were locked; a populate that runs out of
     * memory gives EAGAIN, one that faults gives ENOMEM (the VMAs stay locked, as in Linux).
     */
    public void mlock(long addr, long len, int flags) {
        counted(OpKind.MLOCK, () -> {
            if ((flags & ~MLOCK_ONFAULT) != 0) {
                throw ErrnoException.of(Errno.EINVAL, "unknown mlock2 flags %#x", flags);
            }
            long start = addr & PAGE_MASK;
            long end = pageAlign(addr + len);
            if (len < 0 || end < start) {
                throw new ErrnoException(Errno.EINVAL, "mlock range overflows");
            }
            if (end == start) {
                return null;
            }
            long set = VM_LOCKED | ((flags & MLOCK_ONFAULT) != 0 ? VM_LOCKONFAULT : 0);
            changeFlags(OpKind.MLOCK, start, end, false, v -> lockFlags(v, set), false);
            if ((flags & MLOCK_ONFAULT) == 0) {
                FaultOutcome outcome = populate(null, start, end);
                if (outcome == FaultOutcome.OOM) {
                    throw new ErrnoException(Errno.EAGAIN, "mlock could not populate: out of memory");
                }
                if (outcome != FaultOutcome.MAPPED) {
                    throw ErrnoException.of(Errno.ENOMEM, "mlock could not populate %#x-%#x: %s", start, end, outcome);
                }
            }
            return null;
        });
    }

    /** {@code munlock(2)}: clear VM_LOCKED; a hole stops it with ENOMEM, keeping what came before. */
    public void munlock(long addr, long len) {
        counted(OpKind.MUNLOCK, () -> {
            long start = addr & PAGE_MASK;
            long end = pageAlign(addr + len);
            if (len < 0 || end < start) {
                throw new ErrnoException(Errno.EINVAL, "munlock range overflows");
            }
            if (end > start) {
                changeFlags(OpKind.MUNLOCK, start, end, false, v -> v.flags() & ~VM_LOCKED_MASK, false);
            }
            return null;
        });
    }

    /** {@code mlockall(2)}: MCL_CURRENT locks every VMA (populating), MCL_FUTURE locks later mappings. */
    public void mlockall(int flags) {
        counted(OpKind.MLOCK, () -> {
            if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) != 0 || flags == MCL_ONFAULT) {
                throw ErrnoException.of(Errno.EINVAL, "mlockall flags %#x: use MCL_CURRENT and/or MCL_FUTURE, optionally MCL_ONFAULT", flags);
            }
            long set = VM_LOCKED | ((flags & MCL_ONFAULT) != 0 ? VM_LOCKONFAULT : 0);
            defFlags = (flags & MCL_FUTURE) != 0 ? set : 0;
            if ((flags & MCL_CURRENT) != 0) {
                lockAll(set);
                if ((flags & MCL_ONFAULT) == 0) {
                    populateIgnoringErrors(MMAP_MIN_ADDR, TASK_SIZE);
                }
            }
            return null;
        });
    }

    /** {@code munlockall(2)}. */
    public void munlockall() {
        counted(OpKind.MUNLOCK, () -> {
            defFlags = 0;
            lockAll(0);
            return null;
        });
    }

    private void lockAll(long set) {
        locked(LockIntent.coarse(OpKind.MLOCK, LockIntent.Mode.WRITE, 0, TASK_SIZE), guard -> {
            List<Vma> all = tree.all();
            if (all.isEmpty()) {
                return null;
            }
            VmaLayout.Edit edit = VmaLayout.plan(all, all.get(0).start(), all.get(all.size() - 1).end(),
                    v -> lockFlags(v, set), lockStateFactory);
            apply(guard, edit, false);
            return null;
        });
    }

    /** {@code mlock_fixup}: the flags of {@code v} locked with {@code set}; special VMAs are left alone. */
    private static long lockFlags(Vma v, long set) {
        return v.isSpecial() ? v.flags() : (v.flags() & ~VM_LOCKED_MASK) | set;
    }

    // ------------------------------------------------------------------ madvise

    /**
     * {@code madvise(2)}. Flag advices (DONTFORK, DOFORK, WIPEONFORK, KEEPONFORK, DONTDUMP, DODUMP, HUGEPAGE,
     * NOHUGEPAGE, MERGEABLE, UNMERGEABLE, NORMAL, RANDOM, SEQUENTIAL) change VMAs under the write lock;
     * DONTNEED and FREE zap pages, WILLNEED, COLD and PAGEOUT are hints, POPULATE_READ/WRITE fault pages in,
     * all under the read lock. As in Linux, holes do not stop it: it applies to every mapped part and then
     * returns ENOMEM; a VMA the advice is invalid for stops it with EINVAL, keeping what came before.
     */
    public void madvise(long addr, long len, int advice) {
        counted(OpKind.MADVISE, () -> {
            if (!isPageAligned(addr)) {
                throw ErrnoException.of(Errno.EINVAL, "madvise address %#x is not page aligned", addr);
            }
            if (!knownAdvice(advice)) {
                throw ErrnoException.of(Errno.EINVAL, "unknown madvise advice %d", advice);
            }
            long length = pageAlign(len);
            if (len < 0 || (len != 0 && length == 0) || addr + length < addr) {
                throw ErrnoException.of(Errno.EINVAL, "madvise range %#x+%#x overflows", addr, len);
            }
            long end = addr + length;
            if (end == addr) {
                return null;
            }
            if (advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE) {
                madvisePopulate(addr, end, advice == MADV_POPULATE_WRITE);
                return null;
            }
            boolean holes = hasHoles(addr, end);
            FlagChange flagChange = flagAdvice(advice);
            if (flagChange != null) {
                madviseFlags(addr, end, flagChange);
            } else {
                madviseRead(addr, end, advice);
            }
            if (holes) {
                throw ErrnoException.of(Errno.ENOMEM, "part of %#x-%#x is not mapped", addr, end);
            }
            return null;
        });
    }

    private boolean hasHoles(long start, long end) {
        long expected = start;
        for (Vma v : tree.overlapping(start, end)) {
            if (v.start() > expected) {
                return true;
            }
            expected = v.end();
        }
        return expected < end;
    }

    private static boolean knownAdvice(int advice) {
        switch (advice) {
            case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED: case MADV_DONTNEED:
            case MADV_FREE: case MADV_REMOVE: case MADV_DONTFORK: case MADV_DOFORK: case MADV_MERGEABLE:
            case MADV_UNMERGEABLE: case MADV_HUGEPAGE: case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP:
            case MADV_WIPEONFORK: case MADV_KEEPONFORK: case MADV_COLD: case MADV_PAGEOUT: case MADV_POPULATE_READ:
            case MADV_POPULATE_WRITE:
                return true;
            default:
                return false;
        }
    }

    /** The VMA flag change of a flag advice, or null for advices that do not change VMAs. */
    private static FlagChange flagAdvice(int advice) {
        switch (advice) {
            case MADV_NORMAL:
                return v -> v.flags() & ~(VM_RAND_READ | VM_SEQ_READ);
            case MADV_RANDOM:
                return v -> (v.flags() & ~VM_SEQ_READ) | VM_RAND_READ;
            case MADV_SEQUENTIAL:
                return v -> (v.flags() & ~VM_RAND_READ) | VM_SEQ_READ;
            case MADV_DONTFORK:
                return v -> v.flags() | VM_DONTCOPY;
            case MADV_DOFORK:
                return v -> {
                    if (v.has(VM_IO)) {
                        throw new ErrnoException(Errno.EINVAL, "MADV_DOFORK on an I/O mapping: " + v);
                    }
                    return v.flags() & ~VM_DONTCOPY;
                };
            case MADV_WIPEONFORK:
                return v -> {
                    if (v.file() != null || v.isShared() || v.ops() != null) {
                        throw new ErrnoException(Errno.EINVAL, "MADV_WIPEONFORK is only for private anonymous memory: " + v);
                    }
                    return v.flags() | VM_WIPEONFORK;
                };
            case MADV_KEEPONFORK:
                return v -> v.flags() & ~VM_WIPEONFORK;
            case MADV_DONTDUMP:
                return v -> v.flags() | VM_DONTDUMP;
            case MADV_DODUMP:
                return v -> {
                    if (v.isSpecial()) {
                        throw new ErrnoException(Errno.EINVAL, "MADV_DODUMP on a special mapping: " + v);
                    }
                    return v.flags() & ~VM_DONTDUMP;
                };
            case MADV_HUGEPAGE:
                return v -> (v.flags() & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
            case MADV_NOHUGEPAGE:
                return v -> (v.flags() & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
            case MADV_MERGEABLE:
                return v -> v.isShared() || v.isSpecial() ? v.flags() : v.flags() | VM_MERGEABLE;
            case MADV_UNMERGEABLE:
                return v -> v.flags() & ~VM_MERGEABLE;
            default:
                return null;
        }
    }

    private void madviseFlags(long start, long end, FlagChange change) {
        locked(intentWithNeighbours(OpKind.MADVISE, start, end), guard -> {
            List<Vma> targets = tree.overlapping(start, end);
            Map<Vma, Long> byVma = new java.util.IdentityHashMap<>();
            ErrnoException stop = null;
            long stopAt = end;
            for (Vma v : targets) {
                try {
                    byVma.put(v, change.apply(v));
                } catch (ErrnoException e) {
                    stop = e;
                    stopAt = Math.max(start, v.start());
                    break;
                }
            }
            if (stopAt > start && !byVma.isEmpty()) {
                VmaLayout.Edit edit = VmaLayout.plan(window(start, stopAt), start, stopAt,
                        v -> byVma.getOrDefault(v, v.flags()), lockStateFactory);
                apply(guard, edit, false);
            }
            if (stop != null) {
                throw stop;
            }
            return null;
        });
    }

    /**
     * {@code madvise_populate}: fault pages in VMA by VMA from {@code start} ({@code faultin_page_range}),
     * stopping at the first hole with ENOMEM and at the first VMA that forbids the access (VM_IO/VM_PFNMAP, no
     * VM_READ for a read, no VM_WRITE for a write) with EINVAL; what was populated before stays. A fault that
     * fails gives EFAULT (SIGBUS, SIGSEGV) or ENOMEM (out of memory).
     */
    private void madvisePopulate(long start, long end, boolean write) {
        Access access = write ? Access.WRITE : Access.READ;
        long addr = start;
        while (addr < end) {
            Vma v = tree.find(addr);
            if (v == null) {
                throw ErrnoException.of(Errno.ENOMEM, "MADV_POPULATE: %#x is not mapped", addr);
            }
            if (v.has(VM_IO | VM_PFNMAP) || !v.has(write ? VM_WRITE : VM_READ)) {
                throw ErrnoException.of(Errno.EINVAL, "MADV_POPULATE_%s on a mapping that does not allow it: %s",
                        write ? "WRITE" : "READ", v);
            }
            long stop = Math.min(end, v.end());
            FaultOutcome outcome = populateWith(null, addr, stop, x -> access, false);
            if (outcome == FaultOutcome.OOM) {
                throw new ErrnoException(Errno.ENOMEM, "MADV_POPULATE ran out of memory");
            }
            if (outcome == FaultOutcome.ACCESS) {
                throw ErrnoException.of(Errno.EINVAL, "MADV_POPULATE: the mapping changed under it (%s)", outcome);
            }
            if (outcome != FaultOutcome.MAPPED) {
                throw ErrnoException.of(Errno.EFAULT, "MADV_POPULATE: the fault failed (%s)", outcome);
            }
            addr = stop;
        }
    }

    private void madviseRead(long start, long end, int advice) {
        boolean zaps = advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE;
        if (!zaps) {
            // WILLNEED, COLD, PAGEOUT: hints the model does not act on, but Linux walks the VMAs under the
            // mmap read lock, and that is what they cost other threads.
            locked(LockIntent.of(OpKind.MADVISE, LockIntent.Mode.READ, start, end), guard -> {
                requireCovers(guard, start, end, false);
                return null;
            });
            return;
        }
        locked(LockIntent.of(OpKind.MADVISE, LockIntent.Mode.READ, start, end), guard -> {
            requireCovers(guard, start, end, false);
            for (Vma v : tree.overlapping(start, end)) {
                if (advice == MADV_DONTNEED || advice == MADV_FREE) {
                    if (v.has(VM_LOCKED | VM_PFNMAP)) {
                        throw new ErrnoException(Errno.EINVAL, "MADV_DONTNEED/FREE on a locked or PFN mapping: " + v);
                    }
                    if (advice == MADV_FREE && !v.isAnonymous()) {
                        throw new ErrnoException(Errno.EINVAL, "MADV_FREE is only for private anonymous memory: " + v);
                    }
                } else if (v.has(VM_LOCKED)) {
                    throw new ErrnoException(Errno.EINVAL, "MADV_REMOVE on a locked mapping: " + v);
                } else if (v.file() == null || (v.flags() & (VM_SHARED | VM_WRITE)) != (VM_SHARED | VM_WRITE)) {
                    throw new ErrnoException(Errno.EACCES, "MADV_REMOVE needs a shared writable file mapping: " + v);
                }
                zap(Math.max(start, v.start()), Math.min(end, v.end()));
            }
            return null;
        });
    }

    // ------------------------------------------------------------------ mremap

    /**
     * {@code mremap(2)} as Linux 6.18's {@code mm/mremap.c} does it: shrink in place (the unmapped tail may span
     * several VMAs and holes), grow in place (merging with the next VMA where it may), or move
     * ({@code MREMAP_MAYMOVE}; {@code MREMAP_FIXED}; {@code MREMAP_DONTUNMAP}, whose new address is a hint
     * without {@code MREMAP_FIXED}). Moving keeps the pages (their PTEs move), the anon identity, and the pgoff
     * (an anonymous VMA never faulted takes its new address's). A fixed move of the same size moves every VMA
     * in the old range, keeping the gaps between them, each over its own part of the target (6.17+
     * {@code remap_move}); it stops at the first VMA that cannot move, keeping the moves before it.
     * {@code MREMAP_DONTUNMAP} clears VM_LOCKED on what stays. Caller holds no lock of this mm; may block.
     *
     * @throws ErrnoException EINVAL (bad flags, unaligned, zero new length, overlapping ranges, DONTUNMAP of a
     *         special mapping), EFAULT (no mapping at the old address, or the range to move or grow is not one
     *         VMA), ENOMEM (cannot grow in place without MAYMOVE, no room), EINTR
     */
    public long mremap(long oldAddr, long oldLen, long newLen, int flags, long newAddr) {
        return counted(OpKind.MREMAP, () -> doMremap(oldAddr, oldLen, newLen, flags, newAddr));
    }

    /** {@code check_mremap_params} then the dispatch of {@code do_mremap}. */
    private long doMremap(long oldAddr, long oldLenIn, long newLenIn, int flags, long newAddr) {
        if ((flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0) {
            throw ErrnoException.of(Errno.EINVAL, "unknown mremap flags %#x", flags);
        }
        boolean mayMove = (flags & MREMAP_MAYMOVE) != 0;
        boolean fixed = (flags & MREMAP_FIXED) != 0;
        boolean dontUnmap = (flags & MREMAP_DONTUNMAP) != 0;
        if (!isPageAligned(oldAddr)) {
            throw ErrnoException.of(Errno.EINVAL, "old address %#x is not page aligned", oldAddr);
        }
        long oldLen = pageAlign(oldLenIn);
        long newLen = pageAlign(newLenIn);
        if (newLen == 0) {
            throw new ErrnoException(Errno.EINVAL, "mremap new length is zero");
        }
        if (newLen < 0 || newLen > TASK_SIZE) {
            throw ErrnoException.of(Errno.EINVAL, "mremap new length %#x is larger than the address space", newLenIn);
        }
        boolean impliesNewAddr = fixed || dontUnmap;
        if (impliesNewAddr) {
            if (newAddr < 0 || newAddr > TASK_SIZE - newLen) {
                throw ErrnoException.of(Errno.EINVAL, "new address %#x is out of range", newAddr);
            }
            if (!isPageAligned(newAddr)) {
                throw ErrnoException.of(Errno.EINVAL, "new address %#x is not page aligned", newAddr);
            }
            if (!mayMove) {
                throw new ErrnoException(Errno.EINVAL, "MREMAP_FIXED and MREMAP_DONTUNMAP need MREMAP_MAYMOVE");
            }
            if (dontUnmap && oldLen != newLen) {
                throw new ErrnoException(Errno.EINVAL, "MREMAP_DONTUNMAP needs equal lengths");
            }
            if (Long.compareUnsigned(oldAddr + oldLen, newAddr) > 0 && Long.compareUnsigned(newAddr + newLen, oldAddr) > 0) {
                throw new ErrnoException(Errno.EINVAL, "old and new ranges overlap");
            }
        }
        if (oldAddr < 0 || oldAddr >= TASK_SIZE) {
            throw ErrnoException.of(Errno.EFAULT, "%#x is not mapped (outside user space)", oldAddr);
        }
        // The old range as far as it can hold VMAs (a length past the top is not an error by itself).
        long oldEnd = oldLen < 0 || oldAddr + oldLen < oldAddr || oldAddr + oldLen > TASK_SIZE ? TASK_SIZE : oldAddr + oldLen;
        long peekTarget = peekMoveTarget(oldAddr, oldLen, newLen, flags, newAddr);
        long lo = Math.min(oldAddr, peekTarget);
        long hi = Math.max(Math.max(oldEnd, oldAddr + Math.min(newLen, TASK_SIZE - oldAddr)), peekTarget + newLen);
        LockIntent intent = intentWithNeighbours(OpKind.MREMAP, lo, hi);
        return locked(intent, guard -> {
            requireCoversWithNeighbours(guard, lo, hi);
            if (fixed && oldLen == newLen) {
                return remapMove(guard, oldAddr, oldEnd, newAddr, dontUnmap);
            }
            Vma v = tree.find(oldAddr);
            if (v == null) {
                throw ErrnoException.of(Errno.EFAULT, "%#x is not mapped", oldAddr);
            }
            // Lengths are unsigned in Linux: a negative long is a huge length.
            boolean shrink = Long.compareUnsigned(newLen, oldLen) < 0;
            boolean expand = Long.compareUnsigned(newLen, oldLen) > 0;
            // check_prep_vma: the checks below apply only when the call maps something new.
            if (expand || impliesNewAddr) {
                if (oldLen == 0) {
                    throw new ErrnoException(Errno.EINVAL, v.has(VM_MAYSHARE)
                            ? "mremap with old_len 0 (duplicating a shared mapping) is not modelled"
                            : "mremap with old_len 0 cannot duplicate a private mapping");
                }
                if (dontUnmap && v.has(VM_DONTEXPAND | VM_PFNMAP)) {
                    throw new ErrnoException(Errno.EINVAL, "MREMAP_DONTUNMAP of a special mapping: " + v);
                }
                long kept = shrink ? newLen : oldLen;
                if (kept > v.end() - oldAddr) {
                    throw ErrnoException.of(Errno.EFAULT, "%#x-%#x is not one mapping", oldAddr, oldAddr + kept);
                }
                if (expand && v.has(VM_DONTEXPAND | VM_PFNMAP)) {
                    throw new ErrnoException(Errno.EFAULT, "cannot grow a special mapping: " + v);
                }
            }
            if (shrink && Long.compareUnsigned(oldLen - newLen, TASK_SIZE - (oldAddr + newLen)) > 0) {
                throw ErrnoException.of(Errno.EINVAL, "mremap: the range to unmap %#x+%#x leaves user space", oldAddr + newLen, oldLen - newLen);
            }
            requireCoarse(guard, max(driverNeed(oldAddr, oldEnd), impliesNewAddr && fixed ? driverNeed(newAddr, newAddr + newLen) : LockNeed.FINE));
            if (impliesNewAddr) {
                return mremapTo(guard, oldAddr, oldLen, newLen, newAddr, fixed, dontUnmap, peekTarget);
            }
            if (!shrink && !expand) {
                return oldAddr;
            }
            if (shrink) {
                // shrink_vma: the tail goes like an munmap, whatever VMAs and holes it spans; the lock may drop.
                unmapLocked(guard, oldAddr + newLen, oldAddr + oldLen, true);
                return oldAddr;
            }
            if (oldAddr + oldLen == v.end()) {
                Vma next = tree.findNext(v.end());
                if ((next == null || next.start() >= oldAddr + newLen) && oldAddr + newLen <= TASK_SIZE) {
                    growInPlace(guard, v, oldAddr + newLen);
                    return oldAddr;
                }
            }
            if (!mayMove) {
                throw ErrnoException.of(Errno.ENOMEM, "cannot grow %#x in place and MREMAP_MAYMOVE was not given", oldAddr);
            }
            long target = guard.intent().isCoarse() ? unmappedArea(0, newLen, thpEligible(v)) : peekTarget;
            if (!tree.overlapping(target, target + newLen).isEmpty() || target == oldAddr) {
                throw new NeedsWiderLock(0, 0, true);
            }
            return moveVma(guard, v, oldAddr, oldLen, newLen, target, false);
        });
    }

    /** {@code mremap_to}: a fixed or DONTUNMAP move of one VMA, after unmapping the target and shrinking. */
    private long mremapTo(MmLockGuard guard, long oldAddr, long oldLen, long newLen, long newAddr, boolean fixed,
            boolean dontUnmap, long peekTarget) {
        long target;
        if (fixed) {
            unmapLocked(guard, newAddr, newAddr + newLen, false);
            target = newAddr;
        } else {
            // vrm_set_new_addr: without MREMAP_FIXED the new address is a hint.
            Vma v = tree.find(oldAddr);
            target = guard.intent().isCoarse() ? unmappedArea(newAddr, newLen, newAddr == 0 && thpEligible(v))
                    : peekTarget;
            if (!tree.overlapping(target, target + newLen).isEmpty()
                    || overlaps(oldAddr, oldAddr + oldLen, target, target + newLen)) {
                throw new NeedsWiderLock(0, 0, true);
            }
        }
        long len = oldLen;
        if (Long.compareUnsigned(newLen, oldLen) < 0) {
            unmapLocked(guard, oldAddr + newLen, oldAddr + oldLen, false);
            len = newLen;
        }
        Vma v = tree.find(oldAddr);
        if (v == null) {
            throw ErrnoException.of(Errno.EFAULT, "%#x is no longer mapped", oldAddr);
        }
        return moveVma(guard, v, oldAddr, len, newLen, target, dontUnmap);
    }

    /**
     * {@code remap_move} (6.17+): a fixed move of the same size. Every VMA in {@code [start, end)} moves by the
     * same delta, so gaps keep their size, and each unmaps only its own part of the target. A hole at the start
     * is EFAULT; an error at one VMA leaves the moves before it done.
     */
    private long remapMove(MmLockGuard guard, long start, long end, long newAddr, boolean dontUnmap) {
        requireCoarse(guard, max(driverNeed(start, end), driverNeed(newAddr, newAddr + (end - start))));
        long cursor = start;
        boolean seen = false;
        while (cursor < end) {
            Vma v = tree.findNext(cursor);
            if (v == null || v.start() >= end) {
                break;
            }
            if (!seen && v.start() > start) {
                throw ErrnoException.of(Errno.EFAULT, "%#x is not mapped", start);
            }
            seen = true;
            long addr = Math.max(v.start(), start);
            long len = Math.min(end, v.end()) - addr;
            if (dontUnmap && v.has(VM_DONTEXPAND | VM_PFNMAP)) {
                throw new ErrnoException(Errno.EINVAL, "MREMAP_DONTUNMAP of a special mapping: " + v);
            }
            long target = newAddr + (addr - start);
            unmapLocked(guard, target, target + len, false);
            Vma current = tree.find(addr);
            if (current == null) {
                throw ErrnoException.of(Errno.EFAULT, "%#x is no longer mapped", addr);
            }
            moveVma(guard, current, addr, len, len, target, dontUnmap);
            cursor = addr + len;
        }
        if (!seen) {
            throw ErrnoException.of(Errno.EFAULT, "%#x-%#x is not mapped", start, end);
        }
        return newAddr;
    }

    /** Whether {@code get_unmapped_area} takes the THP path for a move of {@code v}: private anonymous memory. */
    private static boolean thpEligible(Vma v) {
        return v != null && v.isAnonymous() && !v.has(VM_MAYSHARE);
    }

    /** Where a move would go, read without a lock: the lock's range; verified under the lock. */
    private long peekMoveTarget(long oldAddr, long oldLen, long newLen, int flags, long newAddr) {
        if ((flags & MREMAP_FIXED) != 0) {
            return newAddr;
        }
        Vma vma = tree.find(oldAddr);
        boolean dontUnmap = (flags & MREMAP_DONTUNMAP) != 0;
        if ((flags & MREMAP_MAYMOVE) == 0 || vma == null || (!dontUnmap && newLen <= oldLen)) {
            return oldAddr;
        }
        if (!dontUnmap) {
            Vma next = tree.findNext(vma.end());
            if (oldAddr + oldLen == vma.end() && (next == null || next.start() >= oldAddr + newLen)) {
                return oldAddr;
            }
        }
        try {
            long hint = dontUnmap ? newAddr : 0;
            return unmappedArea(hint, newLen, hint == 0 && thpEligible(vma));
        } catch (ErrnoException e) {
            return oldAddr;
        }
    }

    /** The strongest lock a driver callback needs for VMAs of {@code [start, end)} being split, opened or closed. */
    private LockNeed driverNeed(long start, long end) {
        LockNeed need = LockNeed.FINE;
        for (Vma v : tree.overlapping(start, end)) {
            need = max(need, max(v.lockNeed(VmOpsCallback.OPEN), v.lockNeed(VmOpsCallback.CLOSE)));
        }
        return need;
    }

    /**
     * Coverage of everything a change inside {@code [lo, hi)} may touch, checked before the first change: the
     * VMAs straddling or adjacent to its ends (merges and splits reach them).
     */
    private void requireCoversWithNeighbours(MmLockGuard guard, long lo, long hi) {
        long from = lo;
        long to = hi;
        Vma prev = tree.findPrev(lo);
        if (prev != null && prev.end() >= lo) {
            from = Math.min(from, prev.start());
        }
        Vma next = tree.findNext(hi);
        if (next != null && next.start() <= hi) {
            to = Math.max(to, next.end());
        }
        requireCovers(guard, from, to, true);
    }

    /** {@code vma_merge_extend}: grow {@code v} to {@code newEnd}, merging with the next VMA where it may. */
    private void growInPlace(MmLockGuard guard, Vma v, long newEnd) {
        Vma grown = new Vma(v.start(), newEnd, v.flags(), v.pgoff(), v.file(), v.ops(), v.anon(), lockStateFactory.get());
        List<Vma> window = new ArrayList<>();
        Vma next = tree.find(newEnd);
        if (next != null && next.start() == newEnd) {
            window.add(next);
        }
        VmaLayout.Edit insert = VmaLayout.insert(window, grown, lockStateFactory);
        insert.removed.add(v);
        insert.lockStart = Math.min(insert.lockStart, v.start());
        apply(guard, insert, false);
        if (grown.has(VM_LOCKED)) {
            populate(guard, v.end(), newEnd);
        }
    }

    /**
     * {@code move_vma}: a copy of {@code v}'s mapping at {@code target} (driver {@code open} runs for it, as
     * {@code copy_vma} does), merged with its new neighbours; PTEs move; the old range is unmapped, or with
     * DONTUNMAP stays, its VMA losing VM_LOCKED (and its anon identity when all of it moved).
     */
    private long moveVma(MmLockGuard guard, Vma v, long oldAddr, long oldLen, long newLen, long target, boolean dontUnmap) {
        requireCovers(guard, Math.min(oldAddr, target), Math.max(oldAddr + oldLen, target + newLen), true);
        long pgoff = v.pgoffOf(oldAddr);
        if (v.isAnonymous() && v.anon() == null) {
            // copy_vma: an anonymous VMA never faulted takes the pgoff of its new address.
            pgoff = target >>> PAGE_SHIFT;
        }
        boolean wholeVma = v.start() == oldAddr && v.end() == oldAddr + oldLen;
        Vma moved = new Vma(target, target + newLen, v.flags(), pgoff, v.file(), v.ops(), v.anon(), lockStateFactory.get());
        VmaLayout.Edit insert = VmaLayout.insert(window(target, target + newLen), moved, lockStateFactory);
        if (moved.ops() != null) {
            insert.opened.add(moved);
        }
        // move_vma: the source is write-isolated before its PTEs move, so no fault can map a page there that
        // the unmap below would then zap (a lost write).
        guard.startWrite(v);
        apply(guard, insert, false);
        movePtes(oldAddr, target, Math.min(oldLen, newLen));
        if (!dontUnmap) {
            unmapLocked(guard, oldAddr, oldAddr + oldLen, false);
        } else {
            dontUnmapComplete(guard, v, oldAddr, wholeVma);
        }
        if (moved.has(VM_LOCKED) && newLen > oldLen) {
            populate(guard, target + oldLen, target + newLen);
        }
        return target;
    }

    /**
     * {@code dontunmap_complete}: the VMA left at the old address loses VM_LOCKED and VM_LOCKONFAULT (its pages
     * moved away); if the whole VMA moved and was not merged into the copy, its anon identity is unlinked.
     * Linux changes the flags in place ({@code vm_flags_clear}): no split, no merge.
     */
    private void dontUnmapComplete(MmLockGuard guard, Vma original, long oldAddr, boolean wholeVma) {
        Vma stays = tree.find(oldAddr);
        if (stays == null) {
            return;
        }
        boolean unlinkAnon = wholeVma && stays == original && stays.anon() != null;
        long flags = stays.flags() & ~VM_LOCKED_MASK;
        if (flags == stays.flags() && !unlinkAnon) {
            return;
        }
        VmaLayout.Edit edit = new VmaLayout.Edit();
        edit.removed.add(stays);
        edit.added.add(new Vma(stays.start(), stays.end(), flags, stays.pgoff(), stays.file(), stays.ops(),
                unlinkAnon ? null : stays.anon(), lockStateFactory.get()));
        edit.lockStart = stays.start();
        edit.lockEnd = stays.end();
        apply(guard, edit, false);
    }

    private void movePtes(long from, long to, long len) {
        for (long off = 0; off < len; off += PAGE_SIZE) {
            PteTable src = pageTables.lookup(from + off);
            if (src == null) {
                off = ((from + off) | (PMD_SIZE - 1)) - from + 1 - PAGE_SIZE;
                continue;
            }
            Page page;
            int bits;
            src.ptl().lock();
            try {
                page = src.page(from + off);
                bits = src.bits(from + off);
                if (page != null) {
                    src.clear(from + off);
                }
            } finally {
                src.ptl().unlock();
            }
            if (page != null) {
                PteTable dst = pageTables.allocate(to + off);
                dst.ptl().lock();
                try {
                    Page old = dst.page(to + off);
                    if (old != null) {
                        dst.clear(to + off);
                        old.put();
                    }
                    dst.install(to + off, page, bits);
                } finally {
                    dst.ptl().unlock();
                }
            }
        }
    }

    // ------------------------------------------------------------------ brk

    /**
     * {@code brk(2)}: returns the new break, or the old one when the request is refused (below the heap start,
     * into another mapping, or out of memory), as Linux does.
     */
    public long brk(long requested) {
        return counted(OpKind.BRK, () -> {
            brkMutex.lock();
            try {
                long oldBrk = brk;
                if (requested < startBrk) {
                    return oldBrk;
                }
                long newEnd = pageAlign(requested);
                long oldEnd = pageAlign(oldBrk);
                if (newEnd == oldEnd) {
                    brk = requested;
                    return requested;
                }
                if (requested <= oldBrk) {
                    // brk(2) shrinking: refused (the old break returned) when no VMA lies in [newbrk, oldbrk),
                    // e.g. after the program unmapped its heap.
                    boolean shrunk = locked(LockIntent.of(OpKind.BRK, LockIntent.Mode.WRITE, newEnd, oldEnd), guard -> {
                        if (tree.overlapping(newEnd, oldEnd).isEmpty()) {
                            return false;
                        }
                        brk = requested;
                        unmapLocked(guard, newEnd, oldEnd, true);
                        return true;
                    });
                    return shrunk ? requested : oldBrk;
                }
                Vma next = tree.findNext(oldEnd);
                if (next != null && newEnd + PAGE_SIZE > startGap(next)) {
                    return oldBrk;
                }
                if (oldEnd < MMAP_MIN_ADDR || newEnd > TASK_SIZE || newEnd < oldEnd) {
                    return oldBrk;
                }
                long flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | defFlags;
                boolean ok = locked(intentWithNeighbours(OpKind.BRK, oldEnd, newEnd), guard -> {
                    Vma after = tree.findNext(oldEnd);
                    if (after != null && newEnd + PAGE_SIZE > startGap(after)) {
                        return false;
                    }
                    // do_brk_flags: the new part only extends the VMA ending at the old break when that VMA lies
                    // above start_brk (vma_prev_limit); it never merges with the next VMA, nor with a bss below
                    // start_brk.
                    Vma prev = tree.findPrev(oldEnd);
                    List<Vma> window = new ArrayList<>();
                    if (prev != null && prev.end() == oldEnd && prev.end() > startBrk) {
                        window.add(prev);
                    }
                    Vma heap = new Vma(oldEnd, newEnd, flags, oldEnd >>> PAGE_SHIFT, null, null, null, lockStateFactory.get());
                    apply(guard, VmaLayout.insert(window, heap, lockStateFactory), false);
                    return true;
                });
                if (!ok) {
                    return oldBrk;
                }
                brk = requested;
                if ((flags & VM_LOCKED) != 0) {
                    populate(null, oldEnd, newEnd);
                }
                return requested;
            } finally {
                brkMutex.unlock();
            }
        });
    }

    // ------------------------------------------------------------------ faults and CPU access

    /**
     * A page fault at {@code addr} from this thread, through the strategy's fault handler. Expands a growsdown
     * stack VMA when the address lies just below it (under the write lock, as Linux 6.5+ does).
     */
    public FaultOutcome fault(long addr, Access access) {
        FaultOutcome outcome = faultHandler.handleFault(faultEngine, addr, access);
        if (outcome == FaultOutcome.SEGV && expandStack(addr)) {
            outcome = faultHandler.handleFault(faultEngine, addr, access);
        }
        counters.increment("fault." + outcome.name());
        return outcome;
    }

    /** {@code expand_stack}: grow the growsdown VMA above {@code addr} down to it. Returns whether it grew. */
    private boolean expandStack(long addr) {
        Vma peek = tree.findNext(addr);
        if (peek == null || !peek.has(VM_GROWSDOWN) || peek.start() <= addr || peek.end() - (addr & PAGE_MASK) > STACK_LIMIT) {
            return false;
        }
        long newStart = addr & PAGE_MASK;
        if (newStart < MMAP_MIN_ADDR) {
            return false;
        }
        return locked(LockIntent.of(OpKind.FAULT, LockIntent.Mode.WRITE, newStart, peek.end()), guard -> {
            Vma stack = tree.findNext(addr);
            if (stack == null || !stack.has(VM_GROWSDOWN)) {
                return false;
            }
            if (stack.start() <= newStart) {
                return true;
            }
            // expand_downwards: the guard gap is kept only against an accessible VMA that does not grow down
            // (a PROT_NONE guard mapping below a stack is allowed right up to it).
            Vma prev = tree.findPrev(stack.start());
            if (prev != null && prev.end() > newStart - STACK_GUARD_GAP && !prev.has(VM_GROWSDOWN)
                    && (prev.flags() & VM_ACCESS_FLAGS) != 0) {
                return false;
            }
            if (prev != null && prev.end() > newStart) {
                return false;
            }
            long grow = pages(stack.start() - newStart);
            if (grow > stack.pgoff()) {
                return false;
            }
            // It prepares the anon identity before growing (anon_vma_prepare), so the stack has one from then on.
            AnonIdentity anon = stack.anon() != null ? stack.anon() : stack.isAnonymous() ? new AnonIdentity() : null;
            Vma grown = new Vma(newStart, stack.end(), stack.flags(), stack.pgoff() - grow, stack.file(), stack.ops(),
                    anon, lockStateFactory.get());
            VmaLayout.Edit edit = new VmaLayout.Edit();
            edit.removed.add(stack);
            edit.added.add(grown);
            edit.lockStart = newStart;
            edit.lockEnd = stack.end();
            apply(guard, edit, false);
            counters.increment("fault.stack_expand");
            return true;
        });
    }

    /** The CPU reads the content word of the page at {@code addr}, faulting as needed. */
    public long read(long addr) {
        return access(addr, Access.READ, 0);
    }

    /** The CPU writes {@code value} to the page at {@code addr}, faulting as needed. */
    public void write(long addr, long value) {
        access(addr, Access.WRITE, value);
    }

    private long access(long addr, Access access, long value) {
        if (addr < 0 || addr >= TASK_SIZE) {
            throw new MemoryAccessException(FaultOutcome.SEGV, addr, access);
        }
        long page = addr & PAGE_MASK;
        int needed = access == Access.WRITE ? PteTable.WRITE : PteTable.READ;
        while (true) {
            PteTable table = pageTables.lookup(page);
            if (table != null) {
                table.ptl().lock();
                try {
                    Page p = table.isDetached() ? null : table.page(page);
                    if (p != null && (table.bits(page) & needed) != 0) {
                        if (access == Access.WRITE) {
                            p.setContent(value);
                            table.setBits(page, table.bits(page) | PteTable.DIRTY | PteTable.ACCESSED);
                            return value;
                        }
                        return p.content();
                    }
                } finally {
                    table.ptl().unlock();
                }
            }
            FaultOutcome outcome = fault(page, access);
            if (outcome != FaultOutcome.MAPPED) {
                throw new MemoryAccessException(outcome, addr, access);
            }
        }
    }

    // ------------------------------------------------------------------ populate and GUP

    /**
     * {@code __mm_populate} with {@code ignore_errors == 0}: fault in every page of {@code [start, end)}, skipping
     * holes, VM_IO/VM_PFNMAP and VM_LOCKONFAULT VMAs; a PROT_NONE VMA ({@code populate_vma_page_range}:
     * -EFAULT) or a failed fault ends it.
     */
    FaultOutcome populate(MmLockGuard holding, long start, long end) {
        return populateWith(holding, start, end, Mm::populateAccess, true);
    }

    /** {@code mm_populate} ({@code ignore_errors == 1}): as {@link #populate}, going on at the next VMA after a failure. */
    private void populateIgnoringErrors(long start, long end) {
        long addr = start;
        while (addr < end) {
            Vma v = tree.findNext(addr);
            if (v == null || v.start() >= end) {
                return;
            }
            long stop = Math.min(end, v.end());
            populateWith(null, Math.max(addr, v.start()), stop, Mm::populateAccess, true);
            addr = stop;
        }
    }

    /** Writable private mappings are touched with a write fault to break COW; the rest with a read. */
    private static Access populateAccess(Vma v) {
        return (v.flags() & (VM_WRITE | VM_SHARED)) == VM_WRITE ? Access.WRITE : Access.READ;
    }

    private FaultOutcome populateWith(MmLockGuard holding, long start, long end, Function<Vma, Access> accessOf,
            boolean mlockRules) {
        counters.increment("populate.calls");
        long addr = start;
        while (addr < end) {
            Vma v = tree.findNext(addr);
            if (v == null || v.start() >= end) {
                break;
            }
            addr = Math.max(addr, v.start());
            if (v.has(VM_IO | VM_PFNMAP) || (mlockRules && v.has(VM_LOCKONFAULT))) {
                addr = v.end();
                continue;
            }
            if ((v.flags() & VM_ACCESS_FLAGS) == 0) {
                return FaultOutcome.ACCESS;
            }
            Access access = accessOf.apply(v);
            long stop = Math.min(end, v.end());
            for (; addr < stop; addr += PAGE_SIZE) {
                if (isMapped(addr, access)) {
                    continue;
                }
                FaultOutcome outcome = holding == null ? fault(addr, access)
                        : faultHandler.handleFaultHolding(faultEngine, holding, addr, access);
                if (outcome != FaultOutcome.MAPPED) {
                    return outcome;
                }
            }
        }
        return FaultOutcome.MAPPED;
    }

    private boolean isMapped(long addr, Access access) {
        PteTable table = pageTables.lookup(addr);
        if (table == null) {
            return false;
        }
        table.ptl().lock();
        try {
            int needed = access == Access.WRITE ? PteTable.WRITE : PteTable.READ;
            return !table.isDetached() && table.page(addr) != null && (table.bits(addr) & needed) != 0;
        } finally {
            table.ptl().unlock();
        }
    }

    /**
     * {@code get_user_pages}: pin {@code nrPages} pages from {@code start}, faulting them in under the read
     * lock, which it cannot drop. Returns the pinned pages (release them with {@link #unpinUserPages});
     * fewer than asked when a later page fails.
     *
     * @throws ErrnoException EFAULT when the first page cannot be pinned, EINVAL for a bad range, EINTR
     */
    public List<Page> getUserPages(long start, int nrPages, boolean write) {
        return counted(OpKind.GUP, () -> {
            if (!isPageAligned(start) || nrPages <= 0 || start < 0 || start > TASK_SIZE - (long) nrPages * PAGE_SIZE) {
                throw ErrnoException.of(Errno.EINVAL, "get_user_pages(%#x, %d): unaligned or out of range", start, nrPages);
            }
            long end = start + (long) nrPages * PAGE_SIZE;
            Access access = write ? Access.WRITE : Access.READ;
            return locked(LockIntent.of(OpKind.GUP, LockIntent.Mode.READ, start, end), guard -> {
                requireCovers(guard, start, end, false);
                LockNeed need = LockNeed.FINE;
                for (Vma v : tree.overlapping(start, end)) {
                    need = max(need, v.lockNeed(VmOpsCallback.FAULT));
                }
                requireCoarse(guard, need);
                List<Page> pinned = new ArrayList<>();
                for (long a = start; a < end; a += PAGE_SIZE) {
                    Vma v = tree.find(a);
                    if (v == null || !v.allows(access) || v.has(VM_IO | VM_PFNMAP)) {
                        break;
                    }
                    Page p = pinIfMapped(a, access);
                    if (p == null) {
                        FaultOutcome outcome = faultHandler.handleFaultHolding(faultEngine, guard, a, access);
                        p = outcome == FaultOutcome.MAPPED ? pinIfMapped(a, access) : null;
                    }
                    if (p == null) {
                        break;
                    }
                    pinned.add(p);
                }
                if (pinned.isEmpty()) {
                    throw ErrnoException.of(Errno.EFAULT, "get_user_pages: %#x cannot be pinned for %s", start, access);
                }
                return pinned;
            });
        });
    }

    private Page pinIfMapped(long addr, Access access) {
        PteTable table = pageTables.lookup(addr);
        if (table == null) {
            return null;
        }
        table.ptl().lock();
        try {
            int needed = access == Access.WRITE ? PteTable.WRITE : PteTable.READ;
            Page p = table.isDetached() ? null : table.page(addr);
            if (p == null || (table.bits(addr) & needed) == 0) {
                return null;
            }
            p.get();
            pins.compute(p, (k, n) -> {
                AtomicInteger count = n == null ? new AtomicInteger() : n;
                count.incrementAndGet();
                return count;
            });
            return p;
        } finally {
            table.ptl().unlock();
        }
    }

    /** Release pins taken by {@link #getUserPages}. */
    public void unpinUserPages(List<Page> pages) {
        for (Page p : pages) {
            boolean[] pinned = {false};
            // One atomic step per page: a pin racing the last unpin is never lost.
            pins.computeIfPresent(p, (k, n) -> {
                pinned[0] = true;
                return n.decrementAndGet() == 0 ? null : n;
            });
            if (!pinned[0]) {
                throw new IllegalStateException("unpin of a page not pinned by this mm: " + p);
            }
            p.put();
        }
    }

    // ------------------------------------------------------------------ /proc readers

    /**
     * The text of {@code /proc/pid/maps}, read as a program reads it: one 4 KiB chunk per lock acquisition, the
     * lock released between chunks (so a writer may run between them, as in Linux).
     */
    public String procMaps() {
        StringBuilder out = new StringBuilder();
        walkVmas(OpKind.PROC_MAPS, PROC_CHUNK_BYTES, v -> {
            String line = ProcMaps.line(v, this) + "\n";
            out.append(line);
            return line.length();
        });
        return out.toString();
    }

    /** One VMA's page counts as {@code /proc/pid/smaps} reports them. */
    public record SmapsEntry(String header, long sizeKb, long rssKb, long anonKb, long dirtyKb, boolean locked) {}

    /** An smaps-style walk: per VMA, count its present pages under the PTLs. */
    public List<SmapsEntry> smaps() {
        List<SmapsEntry> out = new ArrayList<>();
        walkVmas(OpKind.SMAPS, PROC_CHUNK_BYTES, v -> {
            long rss = 0;
            long anon = 0;
            long dirty = 0;
            for (PteTable table : pageTables.tables(v.start(), v.end())) {
                table.ptl().lock();
                try {
                    for (long a = Math.max(v.start(), table.base()); a < Math.min(v.end(), table.base() + PMD_SIZE); a += PAGE_SIZE) {
                        Page p = table.page(a);
                        if (p != null && p != Page.ZERO) {
                            rss++;
                            if (p.kind() == Page.Kind.ANON) {
                                anon++;
                            }
                            if ((table.bits(a) & PteTable.DIRTY) != 0) {
                                dirty++;
                            }
                        }
                    }
                } finally {
                    table.ptl().unlock();
                }
            }
            out.add(new SmapsEntry(ProcMaps.line(v, this), v.length() >> 10, rss * 4, anon * 4, dirty * 4, v.has(VM_LOCKED)));
            return 1024;
        });
        return out;
    }

    /** Cost of one VMA in a walk's chunk. */
    private interface VmaVisitor {
        int visit(Vma vma);
    }

    /**
     * Visit every VMA in address order, taking the lock once per chunk of {@code chunkBytes}. The intent's
     * footprint is the VMA being read. Under a lock that covers only part of the space, a chunk ends where the
     * lock's range ends.
     */
    private void walkVmas(OpKind op, int chunkBytes, VmaVisitor visitor) {
        long[] pos = {0};
        LockIntent vmaIntent = LockIntent.of(op, LockIntent.Mode.READ, 0, PAGE_SIZE);
        while (true) {
            Vma locked = parts.lockVmaForRead(pos[0], vmaIntent);
            if (locked != null) {
                try {
                    vmaIntent.moveFootprint(locked.start(), locked.end());
                    visitor.visit(locked);
                    pos[0] = locked.end();
                } finally {
                    parts.unlockVmaForRead(locked);
                }
                counters.increment(op.label() + ".vma_locked");
                continue;
            }
            Vma peek = tree.findNext(pos[0]);
            if (peek == null) {
                return;
            }
            long from = pos[0];
            LockIntent intent = LockIntent.of(op, LockIntent.Mode.READ, Math.max(from, peek.start()), peek.end());
            boolean more = locked(intent, guard -> {
                int bytes = 0;
                while (bytes < chunkBytes) {
                    Vma v = tree.findNext(pos[0]);
                    if (v == null) {
                        return false;
                    }
                    if (!guard.covers(v.start(), v.end(), false)) {
                        if (bytes == 0) {
                            throw new NeedsWiderLock(v.start(), v.end(), false);
                        }
                        return true;
                    }
                    guard.intent().moveFootprint(v.start(), v.end());
                    bytes += visitor.visit(v);
                    pos[0] = v.end();
                }
                return true;
            });
            if (!more) {
                return;
            }
        }
    }

    /**
     * Set up the initial stack with {@code argPages} pages of arguments at its top, as exec does; marks it
     * [stack]. Returns the stack VMA's start.
     */
    public long setupStack(int argPages) {
        long stackTop = config.stackTop();
        long size = 132 * 1024;
        long start = mmap(stackTop - size, size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, null, 0);
        argEnd = stackTop;
        argStart = stackTop - (long) argPages * PAGE_SIZE;
        for (long a = argStart; a < argEnd; a += PAGE_SIZE) {
            write(a, a ^ 0x5a5a5a5aL);
        }
        startStack = argStart - PAGE_SIZE;
        return start;
    }

    /**
     * {@code /proc/pid/cmdline}: read the argument pages remotely ({@code access_remote_vm}) under the read
     * lock on their range. Returns the content words.
     */
    public long[] readCmdline() {
        long start = argStart;
        long end = argEnd;
        if (end <= start) {
            return new long[0];
        }
        return counted(OpKind.CMDLINE, () -> locked(LockIntent.of(OpKind.CMDLINE, LockIntent.Mode.READ, start, end), guard -> {
            requireCovers(guard, start, end, false);
            long[] words = new long[(int) pages(end - start)];
            for (long a = start; a < end; a += PAGE_SIZE) {
                Long w = readHolding(guard, a);
                if (w == null) {
                    throw ErrnoException.of(Errno.EFAULT, "argument page %#x is not readable", a);
                }
                words[(int) pages(a - start)] = w;
            }
            return words;
        }));
    }

    private Long readHolding(MmLockGuard guard, long addr) {
        for (int i = 0; i < 3; i++) {
            PteTable table = pageTables.lookup(addr);
            if (table != null) {
                table.ptl().lock();
                try {
                    Page p = table.isDetached() ? null : table.page(addr);
                    if (p != null) {
                        return p.content();
                    }
                } finally {
                    table.ptl().unlock();
                }
            }
            if (faultHandler.handleFaultHolding(faultEngine, guard, addr, Access.READ) != FaultOutcome.MAPPED) {
                return null;
            }
        }
        return null;
    }

    // ------------------------------------------------------------------ fork

    /**
     * {@code fork()}'s {@code dup_mmap}: a new address space of the same strategy, sharing this one's allocator,
     * with every VMA copied (see {@link Fork} for the rules) and private pages shared copy-on-write. Holds this
     * address space's lock for writing over the whole space for the entire copy; may block.
     */
    public Mm fork() {
        return counted(OpKind.FORK, () -> locked(LockIntent.coarse(OpKind.FORK, LockIntent.Mode.WRITE, 0, TASK_SIZE), guard -> {
            Mm child = new Mm(strategy, strategyConfig, config);
            child.startBrk = startBrk;
            child.brk = brk;
            child.startStack = startStack;
            child.argStart = argStart;
            child.argEnd = argEnd;
            Fork.copy(this, guard, child);
            return child;
        }));
    }

    /** A new per-VMA lock state from this address space's strategy. */
    Object newLockState() {
        return lockStateFactory.get();
    }

    /** Publish the VMAs a fork copied into this (new, unshared) address space, running drivers' open. */
    void publishForkedVmas(List<Vma> vmas) {
        locked(LockIntent.coarse(OpKind.FORK, LockIntent.Mode.WRITE, 0, TASK_SIZE), guard -> {
            VmaLayout.Edit edit = new VmaLayout.Edit();
            edit.added.addAll(vmas);
            for (Vma v : vmas) {
                if (v.ops() != null) {
                    edit.opened.add(v);
                }
            }
            edit.lockStart = 0;
            edit.lockEnd = TASK_SIZE;
            apply(guard, edit, false);
            return null;
        });
    }

    // ------------------------------------------------------------------ teardown

    /** {@code exit_mmap}: unmap everything (drivers' close callbacks run). The address space is empty after. */
    public void exit() {
        locked(LockIntent.coarse(OpKind.EXIT, LockIntent.Mode.WRITE, 0, TASK_SIZE), guard -> {
            List<Vma> all = tree.all();
            if (!all.isEmpty()) {
                unmapLocked(guard, all.get(0).start(), all.get(all.size() - 1).end(), false);
            }
            return null;
        });
    }

    @Override
    public String toString() {
        return "Mm[" + strategy.name() + ", " + tree.size() + " VMAs]";
    }
}
