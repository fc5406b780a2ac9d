package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.MAP_ANONYMOUS;
import static dev.mmlab.api.Linux.MAP_PRIVATE;
import static dev.mmlab.api.Linux.isPageAligned;

import dev.mmlab.api.Access;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mem.PageAllocator;
import dev.mmlab.api.pgtable.PageTables;
import dev.mmlab.api.stats.Counters;
import dev.mmlab.api.stats.LockUse;
import dev.mmlab.api.stats.LockWaitRecorder;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One process address space: the syscalls a program makes, the CPU's accesses, and the readers a monitor
 * uses, all safe to call from many threads at once. Locking is the strategy's; everything else (VMAs,
 * split and merge, page tables, pages) is this shared engine, so strategies are compared on the same work.
 *
 * <p>This class is a facade. The engine is laid out like Linux's mm, one package-private class per kernel
 * file, all working on one {@link MmStruct}: {@link Mmap} ({@code mm/mmap.c}: mmap, the gap search, munmap,
 * brk, stack expansion, exit), {@link VmaCommit} ({@code mm/vma.c}: applying a plan, driver callbacks, the
 * flag walk), {@link VmaLayout} and {@link VmaMerge} (split and merge rules), {@link Mprotect}, {@link Mlock},
 * {@link Madvise}, {@link Mremap}, {@link Memory} ({@code mm/memory.c}: the fault entry, zap, PTE moves, CPU
 * access), {@link FaultEngine} ({@code handle_mm_fault} and below), {@link Gup} ({@code mm/gup.c}: populate,
 * pins), {@link Fork} ({@code kernel/fork.c}) and {@link TaskMmu} ({@code fs/proc/task_mmu.c}).
 *
 * <p>How a syscall runs: validate the arguments (a bad call changes nothing); ask the strategy's
 * {@link MmLock} for the range it needs; plan the VMA change against the current tree; if the plan touches
 * more than the guard covers, release and lock wider; isolate what the plan touches
 * ({@link MmLockGuard#startWrite}); run driver callbacks; publish the new VMAs in one replace; zap the page
 * tables of what went away; release.
 *
 * <p>Errors are {@link ErrnoException}s with Linux's errno. Where Linux keeps part of a call that failed
 * (mprotect, mlock and madvise stopping at a hole), so does this class, and the method says so. Every
 * syscall is counted as {@code OP.ok} or {@code OP.ERRNO} in {@link #counters()}.
 */
public final class Mm {
    /** {@code TASK_UNMAPPED_BASE} (x86-64, no randomization): where the bottom-up fallback search starts. */
    static final long MMAP_LEGACY_BASE = Mmap.LEGACY_BASE;

    private final MmStruct mm;

    private Mm(MmStruct mm) {
        this.mm = mm;
    }

    /** A new, empty address space driven by {@code selected}. */
    public static Mm create(Strategies.Selected selected, MmConfig config) {
        return create(selected.strategy(), selected.config(), config);
    }

    /** A new, empty address space driven by {@code strategy} with {@code strategyConfig}. */
    public static Mm create(LockingStrategy strategy, StrategyConfig strategyConfig, MmConfig config) {
        return new Mm(new MmStruct(strategy, strategyConfig, config));
    }

    /** The empty child of {@code parent}'s fork: same strategy and config, the parent's shmem inode counter. */
    static Mm forkOf(MmStruct parent) {
        return new Mm(new MmStruct(parent.strategy, parent.strategyConfig, parent.config, parent.nextShmemInode));
    }

    MmStruct struct() {
        return mm;
    }

    public LockingStrategy strategy() {
        return mm.strategy;
    }

    public StrategyConfig strategyConfig() {
        return mm.strategyConfig;
    }

    /** The strategy's parts for this address space. */
    public StrategyInstance parts() {
        return mm.parts;
    }

    public MmConfig config() {
        return mm.config;
    }

    public VmaTree tree() {
        return mm.tree;
    }

    public PageTables pageTables() {
        return mm.pageTables;
    }

    public PageAllocator allocator() {
        return mm.allocator();
    }

    public Counters counters() {
        return mm.counters;
    }

    /** How each operation of this address space was locked: mm-wide read, write, or not at all. */
    public LockUse lockUse() {
        return mm.lockUse;
    }

    public LockWaitRecorder waits() {
        return mm.waits;
    }

    public MmLock mmLock() {
        return mm.lock;
    }

    /** Pages pinned by {@link #getUserPages} and not yet unpinned, with their pin counts. */
    public Map<Page, Integer> pins() {
        Map<Page, Integer> out = new HashMap<>();
        mm.pins.forEach((p, n) -> {
            if (n.get() > 0) {
                out.put(p, n.get());
            }
        });
        return out;
    }

    /** Every file this address space has mapped (its page cache may hold pages after the unmap). */
    public Set<BackingFile> filesSeen() {
        return Collections.unmodifiableSet(mm.filesSeen);
    }

    /**
     * Addresses where stack expansion ({@code expand_downwards}) grew a growsdown VMA down to meet the VMA
     * below it; Linux leaves such a pair apart until an operation that merges touches it.
     */
    public Set<Long> stackExpansionMeets() {
        return Collections.unmodifiableSet(mm.stackMeets);
    }

    public long startBrk() {
        return mm.startBrk;
    }

    public long brkValue() {
        return mm.brk;
    }

    public long startStack() {
        return mm.startStack;
    }

    /** Where brk starts; as exec sets it. Only before the heap exists. */
    public void setStartBrk(long address) {
        if (!isPageAligned(address) || mm.brk != mm.startBrk) {
            throw new IllegalStateException("start_brk can be set only before the heap grows, page aligned");
        }
        mm.startBrk = address;
        mm.brk = address;
    }

    /** Marks {@code address} as the initial stack pointer: the VMA containing it is shown as [stack]. */
    public void setStartStack(long address) {
        mm.startStack = address;
    }

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
     *         (a flag outside {@code LEGACY_MAP_MASK} with {@code MAP_SHARED_VALIDATE} of a file or driver; of anonymous
     *         memory {@code MAP_SHARED_VALIDATE} is EINVAL), EINTR; in every case nothing changed
     */
    public long mmap(long addr, long len, int prot, int flags, OpenFile file, long offset) {
        return mm.counted(OpKind.MMAP, () -> Mmap.mmap(mm, addr, len, prot, flags, file, offset, null));
    }

    /**
     * {@code mmap} of a device whose driver is {@code ops}: like a file mapping of the device node; the driver's
     * {@code mmap} hook may refuse it or add flags.
     */
    public long mmapDriver(long addr, long len, int prot, int flags, VmOps ops, long offset) {
        if (ops == null) {
            throw new ErrnoException(Errno.ENODEV, "mmapDriver needs a driver");
        }
        return mm.counted(OpKind.MMAP, () -> Mmap.mmap(mm, addr, len, prot, flags, null, offset, ops));
    }

    /**
     * A mapping exec makes inside {@code execve} (binfmt_elf's {@code elf_map} of the program and its loader,
     * {@code setup_arg_pages}'s stack, the vdso): {@link #mmap} of a file, anonymous memory or, with {@code ops},
     * a driver, but counted as {@link OpKind#EXEC}, in the counters and in {@link #lockUse()}, since Linux makes it
     * inside execve and not in an mmap syscall. Takes the strategy's write lock, as {@code mmap} does.
     *
     * @throws ErrnoException as {@link #mmap}
     */
    public long mmapAtExec(long addr, long len, int prot, int flags, OpenFile file, long offset, VmOps ops) {
        return mm.counted(OpKind.EXEC, () -> Mmap.mmap(mm, OpKind.EXEC, addr, len, prot, flags, file, offset, ops));
    }

    /**
     * {@code munmap(2)}: unmap {@code [addr, addr + len)}; unmapping nothing succeeds. With a rwsem that
     * downgrades, the zap runs under the read lock.
     *
     * @throws ErrnoException EINVAL (unaligned, zero length, out of range), EINTR; nothing changed
     */
    public void munmap(long addr, long len) {
        mm.counted(OpKind.MUNMAP, () -> {
            Mmap.munmap(mm, addr, len);
            return null;
        });
    }

    /**
     * {@code mprotect(2)}. Applies VMA by VMA from {@code addr}; as in Linux, a hole or a VMA that forbids the
     * new protection stops it with ENOMEM or EACCES <em>after</em> the VMAs before it were changed.
     *
     * @throws ErrnoException EINVAL (unaligned, unknown prot bits, both GROWSDOWN and GROWSUP), ENOMEM (range
     *         not fully mapped or overflowing), EACCES (a file mode forbids it), EINTR
     */
    public void mprotect(long addr, long len, int prot) {
        mm.counted(OpKind.MPROTECT, () -> {
            Mprotect.mprotect(mm, addr, len, prot);
            return null;
        });
    }

    /**
     * {@code mlock(2)}/{@code mlock2(2)}: set VM_LOCKED (with {@code MLOCK_ONFAULT}: VM_LOCKONFAULT too) and
     * populate. A hole stops it with ENOMEM after the VMAs before it were locked; a populate that runs out of
     * memory gives EAGAIN, one that faults gives ENOMEM (the VMAs stay locked, as in Linux).
     */
    public void mlock(long addr, long len, int flags) {
        mm.counted(OpKind.MLOCK, () -> {
            Mlock.mlock(mm, addr, len, flags);
            return null;
        });
    }

    /** {@code munlock(2)}: clear VM_LOCKED; a hole stops it with ENOMEM, keeping what came before. */
    public void munlock(long addr, long len) {
        mm.counted(OpKind.MUNLOCK, () -> {
            Mlock.munlock(mm, addr, len);
            return null;
        });
    }

    /** {@code mlockall(2)}: MCL_CURRENT locks every VMA (populating), MCL_FUTURE locks later mappings. */
    public void mlockall(int flags) {
        mm.counted(OpKind.MLOCK, () -> {
            Mlock.mlockall(mm, flags);
            return null;
        });
    }

    /** {@code munlockall(2)}. */
    public void munlockall() {
        mm.counted(OpKind.MUNLOCK, () -> {
            Mlock.munlockall(mm);
            return null;
        });
    }

    /**
     * {@code madvise(2)}. Flag advices (DONTFORK, DOFORK, WIPEONFORK, KEEPONFORK, DONTDUMP, DODUMP, HUGEPAGE,
     * NOHUGEPAGE, MERGEABLE, UNMERGEABLE, NORMAL, RANDOM, SEQUENTIAL) change VMAs under the write lock;
     * DONTNEED zaps pages, FREE keeps them mapped but clean (lazily freed), PAGEOUT unmaps shared anonymous
     * pages (there is no swap), WILLNEED and COLD are hints, POPULATE_READ/WRITE fault pages in,
     * all under the read lock. As in Linux, holes do not stop it: it applies to every mapped part and then
     * returns ENOMEM; a VMA the advice is invalid for stops it with EINVAL, keeping what came before.
     */
    public void madvise(long addr, long len, int advice) {
        mm.counted(OpKind.MADVISE, () -> {
            Madvise.madvise(mm, addr, len, advice);
            return null;
        });
    }

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
        return mm.counted(OpKind.MREMAP, () -> Mremap.mremap(mm, oldAddr, oldLen, newLen, flags, newAddr));
    }

    /**
     * {@code brk(2)}: returns the new break, or the old one when the request is refused (below the heap start,
     * into another mapping, or out of memory), as Linux does.
     */
    public long brk(long requested) {
        return mm.counted(OpKind.BRK, () -> Mmap.brk(mm, requested));
    }

    /**
     * A page fault at {@code addr} from this thread, through the strategy's fault handler. Expands a growsdown
     * stack VMA when the address lies just below it (under the write lock, as Linux 6.5+ does).
     */
    public FaultOutcome fault(long addr, Access access) {
        return Memory.fault(mm, addr, access);
    }

    /**
     * The CPU reads the content word of the page at {@code addr}, faulting as needed.
     *
     * @throws MemoryAccessException when the fault fails
     */
    public long read(long addr) {
        return Memory.access(mm, addr, Access.READ, 0);
    }

    /**
     * The CPU writes {@code value} to the page at {@code addr}, faulting as needed.
     *
     * @throws MemoryAccessException when the fault fails
     */
    public void write(long addr, long value) {
        Memory.access(mm, addr, Access.WRITE, value);
    }

    /**
     * {@code get_user_pages}: pin {@code nrPages} pages from {@code start}, faulting them in under the read
     * lock, which it cannot drop. Returns the pinned pages (release them with {@link #unpinUserPages});
     * fewer than asked when a later page fails.
     *
     * @throws ErrnoException EFAULT when the first page cannot be pinned, EINVAL for a bad range, EINTR
     */
    public List<Page> getUserPages(long start, int nrPages, boolean write) {
        return mm.counted(OpKind.GUP, () -> Gup.getUserPages(mm, start, nrPages, write));
    }

    /** Release pins taken by {@link #getUserPages}. */
    public void unpinUserPages(List<Page> pages) {
        Gup.unpinUserPages(mm, pages);
    }

    /**
     * The text of {@code /proc/pid/maps}, read as a program reads it: one 4 KiB chunk per lock acquisition, the
     * lock released between chunks (so a writer may run between them, as in Linux).
     */
    public String procMaps() {
        return TaskMmu.maps(mm);
    }

    /** One VMA's page counts as {@code /proc/pid/smaps} reports them. */
    public record SmapsEntry(String header, long sizeKb, long rssKb, long anonKb, long dirtyKb, boolean locked) {}

    /** An smaps-style walk: per VMA, count its present pages under the PTLs. */
    public List<SmapsEntry> smaps() {
        return TaskMmu.smaps(mm);
    }

    /**
     * Set up the initial stack with {@code argPages} pages of arguments at its top, as exec does; marks it
     * [stack]. Returns the stack VMA's start.
     */
    public long setupStack(int argPages) {
        return Mmap.setupStack(mm, argPages);
    }

    /**
     * {@code /proc/pid/cmdline}: read the argument pages remotely ({@code access_remote_vm}) under the read
     * lock on their range. Returns the content words.
     */
    public long[] readCmdline() {
        return mm.argEnd <= mm.argStart ? new long[0] : mm.counted(OpKind.CMDLINE, () -> TaskMmu.cmdline(mm));
    }

    /**
     * {@code fork()}'s {@code dup_mmap}: a new address space of the same strategy, sharing this one's allocator,
     * with every VMA copied (see {@link Fork} for the rules) and private pages shared copy-on-write. Holds this
     * address space's lock for writing over the whole space for the entire copy; may block.
     */
    public Mm fork() {
        return mm.counted(OpKind.FORK, () -> Fork.fork(mm));
    }

    /** {@code exit_mmap}: unmap everything (drivers' close callbacks run). The address space is empty after. */
    public void exit() {
        Mmap.exit(mm);
    }

    @Override
    public String toString() {
        return "Mm[" + mm.strategy.name() + ", " + mm.tree.size() + " VMAs]";
    }
}
