package dev.mmlab.api.mm;

import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.VmaLockState;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mem.PageAllocator;
import dev.mmlab.api.pgtable.PageTables;
import dev.mmlab.api.stats.Counters;
import dev.mmlab.api.stats.LockUse;
import dev.mmlab.api.stats.LockWaitRecorder;
import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Mutex;
import dev.mmlab.api.sync.Sched;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The state of one address space ({@code struct mm_struct}), shared by the engine's classes, each of which
 * mirrors one kernel file and takes this object as its first argument, as the kernel's functions take
 * {@code struct mm_struct *mm}: {@link Mmap}, {@link VmaCommit}, {@link Mprotect}, {@link Mlock},
 * {@link Madvise}, {@link Mremap}, {@link Memory}, {@link Gup}, {@link Fork}, {@link TaskMmu}, and the
 * {@link FaultEngine}. {@link Mm} is the public facade over them.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The VMA tree and the page-table entries belong to the strategy's locks
 *       ({@link Locking} runs every syscall under a guard of the strategy's {@link MmLock}; faults run under
 *       the strategy's {@link FaultHandler}). Each PTE table's entries are guarded by its PTL, taken only
 *       through {@link PageTables#withPtl} and its siblings. The fields below have their own rules:
 *       {@code brk} and {@code startBrk} change under {@link #brkMutex}; {@code defFlags} is one volatile word
 *       that mlockall writes and mmap and brk read (a racing mmap sees the old or the new value, as in Linux
 *       where it is read under the mmap lock taken after); {@code startStack}, {@code argStart} and
 *       {@code argEnd} are written by exec's stack setup and by fork before the address space is shared;
 *       {@link #pins} changes one page at a time with atomic map operations.</li>
 *   <li><b>Lock order.</b> {@link #brkMutex} (brk only; Linux serialises brk under the mmap write lock, here
 *       a range lock may not cover the heap, so brk has its own mutex) &rarr; the strategy's guard (and
 *       whatever per-VMA locks the strategy takes inside it) &rarr; one PTL (fork alone holds two: parent,
 *       then child, whose tables nobody else can reach yet) &rarr; a file's page-cache lock. The engine never
 *       waits for the strategy's lock while it holds a PTL, and never calls a driver with a PTL held.</li>
 * </ul>
 */
final class MmStruct {
    final LockingStrategy strategy;
    final StrategyConfig strategyConfig;
    final MmConfig config;
    final Counters counters = new Counters();
    /** How each operation was locked, counted by {@link Locking} and {@link Memory#fault}. */
    final LockUse lockUse = new LockUse();
    final LockWaitRecorder waits = new LockWaitRecorder();
    final StrategyInstance parts;
    final MmLock lock;
    final FaultHandler faultHandler;
    final VmaTree tree;
    final PageTables pageTables = new PageTables();
    final FaultEngine faultEngine;
    /** Pages pinned by get_user_pages, with their pin counts. */
    final Map<Page, AtomicInteger> pins = new ConcurrentHashMap<>();
    final Mutex brkMutex = new Mutex();
    /**
     * The next shmem inode number, shared by a fork family: Linux numbers shmem inodes system wide
     * ({@code shmem_get_inode} takes {@code get_next_ino()}), so a child's new object never shows an inherited
     * one's number. Independent address spaces count from 1 each, which keeps their numbering deterministic.
     */
    final AtomicLong nextShmemInode;
    /** Every file this address space has mapped (its page cache may hold pages after the unmap). */
    final Set<BackingFile> filesSeen = ConcurrentHashMap.newKeySet();
    /**
     * Addresses where {@code expand_downwards} grew a growsdown VMA down to meet the VMA below it. Linux never
     * merges there, so the pair may stay apart though it could merge; {@link Mmap#pruneStackMeets} forgets an
     * address once no growsdown VMA starts there or no VMA ends there.
     */
    final NavigableSet<Long> stackMeets = new ConcurrentSkipListSet<>();
    /** New per-VMA lock states from the strategy, for every VMA the engine creates. */
    final Supplier<VmaLockState> vmaStates;
    volatile long startBrk;
    volatile long brk;
    volatile long startStack;
    volatile long argStart;
    volatile long argEnd;
    /** {@code mm->def_flags}: VM_LOCKED (and VM_LOCKONFAULT) after {@code mlockall(MCL_FUTURE)}. */
    volatile long defFlags;

    MmStruct(LockingStrategy strategy, StrategyConfig strategyConfig, MmConfig config) {
        this(strategy, strategyConfig, config, new AtomicLong(1));
    }

    /** A new, empty address space numbering shmem inodes from {@code nextShmemInode} (fork: the parent's). */
    MmStruct(LockingStrategy strategy, StrategyConfig strategyConfig, MmConfig config, AtomicLong nextShmemInode) {
        this.nextShmemInode = nextShmemInode;
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
        this.vmaStates = parts::newVmaState;
        this.startBrk = config.startBrk();
        this.brk = config.startBrk();
        this.faultEngine = new FaultEngine(this);
    }

    PageAllocator allocator() {
        return config.allocator();
    }

    /** Run a syscall, counting its result as {@code OP.ok} or {@code OP.ERRNO}. */
    <T> T counted(OpKind op, Supplier<T> call) {
        Sched.cost(Cost.SYSCALL);
        try {
            T result = call.get();
            counters.increment(op.label() + ".ok");
            return result;
        } catch (ErrnoException e) {
            counters.increment(op.label() + "." + e.errno());
            throw e;
        }
    }

    /** A new per-VMA lock state from the strategy. */
    VmaLockState newVmaState() {
        return vmaStates.get();
    }
}
