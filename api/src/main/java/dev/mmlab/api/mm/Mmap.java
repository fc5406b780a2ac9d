package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.Access;
import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.VmFlags;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.OpenFile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Mapping and unmapping ({@code mm/mmap.c}, with {@code do_vmi_munmap} from {@code mm/vma.c}): mmap and its
 * gap search, munmap, brk, stack expansion, exit, and exec's initial stack. Each call takes the strategy's
 * lock itself through {@link Locking}; brk takes {@link MmStruct#brkMutex} first.
 */
final class Mmap {
    private Mmap() {}

    /** {@code stack_guard_gap}: 256 pages kept free below a growsdown VMA. */
    static final long STACK_GUARD_GAP = 256 * PAGE_SIZE;
    /** {@code RLIMIT_STACK} default. */
    static final long STACK_LIMIT = 8L << 20;
    /** {@code TASK_UNMAPPED_BASE} (x86-64, no randomization): where the bottom-up fallback search starts. */
    static final long LEGACY_BASE = pageAlign(TASK_SIZE / 3);

    /**
     * {@code LEGACY_MAP_MASK}: the flags {@code MAP_SHARED_VALIDATE} accepts for a file. {@code MAP_FIXED_NOREPLACE}
     * and {@code MAP_SYNC} are not in it (MAP_SYNC only for DAX files, which the model has none of).
     */
    private static final int LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE
            | MAP_EXECUTABLE | 0x4000000 /* MAP_UNINITIALIZED */ | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE
            | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_32BIT | (21 << 26) | (30 << 26) /* MAP_HUGE_2MB, _1GB */;

    /**
     * {@code mmap(2)} of a file ({@code file}), anonymous memory ({@code MAP_ANONYMOUS}) or a driver
     * ({@code ops}). Argument checks follow the order of sys_mmap, ksys_mmap_pgoff, do_mmap and
     * __get_unmapped_area, so a call with two faults reports the errno Linux reports.
     */
    static long mmap(MmStruct mm, long addr, long len, int prot, int flags, OpenFile file, long offset, VmOps ops) {
        return mmap(mm, OpKind.MMAP, addr, len, prot, flags, file, offset, ops);
    }

    /**
     * {@link #mmap(MmStruct, long, long, int, int, OpenFile, long, VmOps)} whose lock use is counted as {@code kind}:
     * {@link OpKind#EXEC} for the mappings exec makes, {@link OpKind#MMAP} otherwise.
     */
    static long mmap(MmStruct mm, OpKind kind, long addr, long len, int prot, int flags, OpenFile file, long offset,
            VmOps ops) {
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
        boolean noreplace = (flags & MAP_FIXED_NOREPLACE) != 0;
        boolean shared = type != MAP_PRIVATE;
        // __get_unmapped_area: the THP path is for anonymous memory without MAP_SHARED (shmem has its own).
        boolean thpAlign = anonymous && !shared;
        ErrnoException refused = refusal(type, flags, prot, anonymous, ops == null && !anonymous ? file : null);
        if (refused != null) {
            // do_mmap checks the mapping type and the file's mode only once the range is placed: a full address
            // space is ENOMEM and an occupied MAP_FIXED_NOREPLACE range EEXIST before any of these.
            if (noreplace) {
                Locking.locked(mm, Locking.intentWithNeighbours(mm, kind, addr, addr + length), guard -> {
                    requireFree(mm, addr, addr + length);
                    return null;
                });
            } else if (!fixed) {
                unmappedArea(mm, addr, length, thpAlign);
            }
            throw refused;
        }
        long vmFlags = VmFlags.fromProt(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | mm.defFlags;
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
            if (shared) {
                vmFlags |= VM_SHARED | VM_MAYSHARE;
                if (!file.writable()) {
                    vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
                }
            }
            backing = file.file();
        } else if (anonymous && shared) {
            vmFlags |= VM_SHARED | VM_MAYSHARE;
            backing = BackingFile.shmem(mm.nextShmemInode.getAndIncrement(), length, mm.allocator());
        } else if (ops != null && shared) {
            vmFlags |= VM_SHARED | VM_MAYSHARE;
        }
        if (ops != null) {
            // A driver that serves pages from a page cache (a file, shmem) names the file: it becomes vm_file.
            backing = ops.vmFile(mm.allocator());
        }
        if ((vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE) {
            vmFlags |= VM_ACCOUNT;
        }
        boolean populate = ((flags & MAP_POPULATE) != 0 && (flags & MAP_NONBLOCK) == 0) || (vmFlags & VM_LOCKED) != 0;
        long peek = fixed ? addr : unmappedArea(mm, addr, length, thpAlign);
        long finalFlags = vmFlags;
        BackingFile finalBacking = backing;
        long[] placed = new long[2];
        Locking.locked(mm, Locking.intentWithNeighbours(mm, kind, peek, peek + length), guard -> {
            long at = peek;
            if (!fixed) {
                if (guard.intent().isCoarse()) {
                    at = unmappedArea(mm, addr, length, thpAlign);
                } else if (!mm.tree.overlapping(at, at + length).isEmpty()) {
                    // Someone took the gap between our look and our lock: search again under the coarse lock.
                    throw Locking.NeedsWiderLock.coarse();
                }
            }
            if (noreplace) {
                requireFree(mm, at, at + length);
            }
            long vmaPgoff = anonymous && !shared ? at >>> PAGE_SHIFT : pgoff;
            Vma vma = new Vma(at, at + length, finalFlags, vmaPgoff, finalBacking, ops, null, mm.newVmaState());
            if (ops != null) {
                Locking.requireCovers(guard, at, at + length, true);
                Locking.requireCoarse(guard, ops.lockNeed(VmOpsCallback.MMAP));
                long driverFlags = VmaCommit.callDriverMmap(mm, guard, vma);
                if (driverFlags != vma.flags()) {
                    vma = vma.withFlags(driverFlags, vma.lockState());
                }
            }
            List<Vma> window = VmaCommit.window(mm, at, at + length);
            VmaLayout.Edit unmap = VmaLayout.plan(window, at, at + length, VmaLayout.UNMAP_ALL, mm.vmaStates);
            List<Vma> afterUnmap = new ArrayList<>(window);
            afterUnmap.removeAll(unmap.removed);
            afterUnmap.addAll(unmap.added);
            afterUnmap.sort(Comparator.comparingLong(Vma::start));
            VmaLayout.Edit insert = VmaLayout.insert(afterUnmap, vma, mm.vmaStates);
            VmaCommit.apply(mm, guard, VmaCommit.combine(unmap, insert), false);
            placed[0] = at;
            placed[1] = populate && !guard.dropsForPopulate() ? 1 : 0;
            if (placed[1] == 1) {
                Gup.populate(mm, guard, at, at + length);
            }
            // mm_populate ignores errors; the new range is one VMA, so stopping at the first is the same.
            return null;
        });
        if (populate && placed[1] == 0) {
            Gup.populate(mm, null, placed[0], placed[0] + length);
        }
        return placed[0];
    }

    /**
     * {@code do_mmap}'s checks of the mapping type and the file's mode (the switch on {@code flags & MAP_TYPE},
     * one for a file, where MAP_SHARED_VALIDATE refuses a flag outside {@code LEGACY_MAP_MASK} with EOPNOTSUPP,
     * one for anonymous memory, which knows no MAP_SHARED_VALIDATE), in its order: the error, or null when the mapping may be made. {@code file} is null unless this maps a file
     * (not anonymous memory, not a driver). No side effect.
     */
    private static ErrnoException refusal(int type, int flags, int prot, boolean anonymous, OpenFile file) {
        if (type != MAP_SHARED && type != MAP_PRIVATE && type != MAP_SHARED_VALIDATE) {
            return ErrnoException.of(Errno.EINVAL, "flags %#x: exactly one of MAP_SHARED, MAP_PRIVATE or MAP_SHARED_VALIDATE is required", flags);
        }
        if (type == MAP_SHARED_VALIDATE && !anonymous && (flags & ~LEGACY_MAP_MASK) != 0) {
            return ErrnoException.of(Errno.EOPNOTSUPP, "MAP_SHARED_VALIDATE with flags %#x this file does not support", flags & ~LEGACY_MAP_MASK);
        }
        // The anonymous switch has MAP_SHARED and MAP_PRIVATE only: MAP_SHARED_VALIDATE is its default, EINVAL.
        if (type == MAP_SHARED_VALIDATE && anonymous) {
            return ErrnoException.of(Errno.EINVAL, "flags %#x: MAP_SHARED_VALIDATE is only for files; use MAP_SHARED for shared anonymous memory", flags);
        }
        boolean growsDown = (flags & MAP_GROWSDOWN) != 0;
        if (file != null) {
            if (type != MAP_PRIVATE && (prot & PROT_WRITE) != 0 && !file.writable()) {
                return new ErrnoException(Errno.EACCES, "MAP_SHARED with PROT_WRITE needs a file opened for writing: " + file.file().path());
            }
            if (!file.readable()) {
                return new ErrnoException(Errno.EACCES, "mapping needs a file opened for reading: " + file.file().path());
            }
            if (growsDown) {
                return new ErrnoException(Errno.EINVAL, "MAP_GROWSDOWN is only for anonymous memory");
            }
        } else if (anonymous && type != MAP_PRIVATE && growsDown) {
            return new ErrnoException(Errno.EINVAL, "MAP_GROWSDOWN is not allowed for shared memory");
        }
        return null;
    }

    /** {@code MAP_FIXED_NOREPLACE}: EEXIST when anything is mapped in {@code [start, end)}. Caller holds the lock over it. */
    private static void requireFree(MmStruct mm, long start, long end) {
        List<Vma> there = mm.tree.overlapping(start, end);
        if (!there.isEmpty()) {
            throw ErrnoException.of(Errno.EEXIST, "MAP_FIXED_NOREPLACE range %#x-%#x overlaps %s", start, end, there.get(0));
        }
    }

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
    static long unmappedArea(MmStruct mm, long hint, long length, boolean thpEligible) {
        if (length <= 0 || length > TASK_SIZE) {
            throw ErrnoException.of(Errno.ENOMEM, "no free range of %#x bytes", length);
        }
        List<Vma> all = mm.tree.all();
        if (hint != 0) {
            long h = hint & PAGE_MASK;
            if (h < MMAP_MIN_ADDR) {
                h = pageAlign(MMAP_MIN_ADDR);
            }
            if (h >= 0 && h <= TASK_SIZE - length) {
                Vma next = mm.tree.findNext(h);
                if (next == null || h + length <= startGap(next)) {
                    return h;
                }
            }
        } else if (thpEligible && length % PMD_SIZE == 0) {
            long padded = searchGap(mm, all, length + PMD_SIZE);
            if (padded >= 0) {
                long offSub = -padded & (PMD_SIZE - 1);
                return offSub == 0 ? padded + PMD_SIZE : padded + offSub;
            }
        }
        long at = searchGap(mm, all, length);
        if (at < 0) {
            throw ErrnoException.of(Errno.ENOMEM, "no free range of %#x bytes below %#x or above %#x", length,
                    mm.config.mmapBase(), LEGACY_BASE);
        }
        return at;
    }

    /** {@code vm_unmapped_area} top-down below mmap_base, then bottom-up above TASK_UNMAPPED_BASE; -1 if nothing fits. */
    private static long searchGap(MmStruct mm, List<Vma> all, long length) {
        long high = mm.config.mmapBase();
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
            long gapStart = i == 0 ? LEGACY_BASE : Math.max(LEGACY_BASE, all.get(i - 1).end());
            long gapEnd = i == all.size() ? TASK_SIZE : startGap(all.get(i));
            if (gapEnd <= LEGACY_BASE) {
                continue;
            }
            if (gapEnd - gapStart >= length) {
                return gapStart;
            }
        }
        return -1;
    }

    /** {@code vm_start_gap}: a growsdown VMA keeps the guard gap free below it. */
    static long startGap(Vma vma) {
        if (vma.has(VM_GROWSDOWN)) {
            long gap = vma.start() - STACK_GUARD_GAP;
            return gap > vma.start() ? 0 : gap;
        }
        return vma.start();
    }

    /** {@code munmap(2)}; see {@link Mm#munmap}. */
    static void munmap(MmStruct mm, long addr, long len) {
        if (!isPageAligned(addr) || addr < 0 || addr > TASK_SIZE || len < 0 || len > TASK_SIZE - addr) {
            throw ErrnoException.of(Errno.EINVAL, "munmap(%#x, %#x): address must be page aligned and the range inside user space", addr, len);
        }
        long end = addr + pageAlign(len);
        if (end == addr) {
            throw new ErrnoException(Errno.EINVAL, "munmap with zero length");
        }
        Locking.locked(mm, LockIntent.of(OpKind.MUNMAP, LockIntent.Mode.WRITE, addr, end), guard -> {
            unmapLocked(mm, guard, addr, end, true);
            return null;
        });
    }

    /**
     * {@code do_vmi_munmap}: unmap {@code [start, end)} under {@code guard}; with {@code downgrade} the guard may
     * drop to read for the zap. Caller holds {@code guard} for writing over the range.
     */
    static void unmapLocked(MmStruct mm, MmLockGuard guard, long start, long end, boolean downgrade) {
        List<Vma> overlapping = mm.tree.overlapping(start, end);
        if (overlapping.isEmpty()) {
            return;
        }
        VmaCommit.apply(mm, guard, VmaLayout.plan(overlapping, start, end, VmaLayout.UNMAP_ALL, mm.vmaStates), downgrade);
    }

    /**
     * {@code brk(2)}; see {@link Mm#brk}. Takes {@link MmStruct#brkMutex}, then the strategy's write lock exactly
     * once on every path, as Linux's {@code SYSCALL_DEFINE1(brk)} (mm/mmap.c) does: it calls
     * {@code mmap_write_lock_killable()} before it even reads {@code mm->brk}, so a {@code brk(0)} query and a
     * refused request take the write lock too.
     */
    static long brk(MmStruct mm, long requested) {
        mm.brkMutex.lock();
        try {
            long oldBrk = mm.brk;
            long oldEnd = pageAlign(oldBrk);
            if (requested < mm.startBrk) {
                return brkUnchanged(mm, oldEnd, () -> oldBrk);
            }
            long newEnd = pageAlign(requested);
            if (newEnd == oldEnd) {
                return brkUnchanged(mm, oldEnd, () -> {
                    mm.brk = requested;
                    return requested;
                });
            }
            if (requested <= oldBrk) {
                // brk(2) shrinking: refused (the old break returned) when no VMA lies in [newbrk, oldbrk),
                // e.g. after the program unmapped its heap.
                boolean shrunk = Locking.locked(mm, LockIntent.of(OpKind.BRK, LockIntent.Mode.WRITE, newEnd, oldEnd), guard -> {
                    if (mm.tree.overlapping(newEnd, oldEnd).isEmpty()) {
                        return false;
                    }
                    mm.brk = requested;
                    unmapLocked(mm, guard, newEnd, oldEnd, true);
                    return true;
                });
                return shrunk ? requested : oldBrk;
            }
            Vma next = mm.tree.findNext(oldEnd);
            if (next != null && newEnd + PAGE_SIZE > startGap(next)
                    || oldEnd < MMAP_MIN_ADDR || newEnd > TASK_SIZE || newEnd < oldEnd) {
                return brkUnchanged(mm, oldEnd, () -> oldBrk);
            }
            long flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | mm.defFlags;
            boolean ok = Locking.locked(mm, Locking.intentWithNeighbours(mm, OpKind.BRK, oldEnd, newEnd), guard -> {
                Vma after = mm.tree.findNext(oldEnd);
                if (after != null && newEnd + PAGE_SIZE > startGap(after)) {
                    return false;
                }
                // do_brk_flags: the new part only extends the VMA ending at the old break when that VMA lies
                // above start_brk (vma_prev_limit); it never merges with the next VMA, nor with a bss below
                // start_brk.
                Vma prev = mm.tree.findPrev(oldEnd);
                List<Vma> window = new ArrayList<>();
                if (prev != null && prev.end() == oldEnd && prev.end() > mm.startBrk) {
                    window.add(prev);
                }
                Vma heap = new Vma(oldEnd, newEnd, flags, oldEnd >>> PAGE_SHIFT, null, null, null, mm.newVmaState());
                VmaCommit.apply(mm, guard, VmaLayout.insert(window, heap, mm.vmaStates), false);
                return true;
            });
            if (!ok) {
                return oldBrk;
            }
            mm.brk = requested;
            if ((flags & VM_LOCKED) != 0) {
                Gup.populate(mm, null, oldEnd, newEnd);
            }
            return requested;
        } finally {
            mm.brkMutex.unlock();
        }
    }

    /**
     * A brk that maps and unmaps nothing (a {@code brk(0)} query, a move inside the break's page, a refusal): runs
     * {@code body} under the write lock of the page above the break, the range a growing brk would lock first.
     * Caller holds {@link MmStruct#brkMutex} and no lock of this mm.
     */
    private static long brkUnchanged(MmStruct mm, long oldEnd, LongSupplier body) {
        long start = Math.min(oldEnd, TASK_SIZE - PAGE_SIZE);
        return Locking.locked(mm, LockIntent.of(OpKind.BRK, LockIntent.Mode.WRITE, start, start + PAGE_SIZE),
                guard -> body.getAsLong());
    }

    /**
     * {@code expand_stack}: grow the growsdown VMA above {@code addr} down to it, under a write guard of its
     * own. Returns whether it grew. Caller holds no lock of this mm.
     */
    static boolean expandStack(MmStruct mm, long addr) {
        Vma peek = mm.tree.findNext(addr);
        if (peek == null || !peek.has(VM_GROWSDOWN) || peek.start() <= addr || peek.end() - (addr & PAGE_MASK) > STACK_LIMIT) {
            return false;
        }
        long newStart = addr & PAGE_MASK;
        if (newStart < MMAP_MIN_ADDR) {
            return false;
        }
        return Locking.locked(mm, LockIntent.of(OpKind.FAULT, LockIntent.Mode.WRITE, newStart, peek.end()), guard -> {
            Vma stack = mm.tree.findNext(addr);
            if (stack == null || !stack.has(VM_GROWSDOWN)) {
                return false;
            }
            if (stack.start() <= newStart) {
                return true;
            }
            // expand_downwards: the guard gap is kept only against an accessible VMA that does not grow down
            // (a PROT_NONE guard mapping below a stack is allowed right up to it).
            Vma prev = mm.tree.findPrev(stack.start());
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
                    anon, mm.newVmaState());
            VmaLayout.Edit edit = new VmaLayout.Edit();
            edit.removed.add(stack);
            edit.added.add(grown);
            edit.lockStart = newStart;
            edit.lockEnd = stack.end();
            VmaCommit.apply(mm, guard, edit, false);
            if (prev != null && prev.end() == newStart) {
                mm.stackMeets.add(newStart);
            }
            mm.counters.increment("fault.stack_expand");
            return true;
        });
    }

    /**
     * Forget the {@link MmStruct#stackMeets} in {@code [from, to]} whose pair is gone: no growsdown VMA starts
     * there or no VMA ends there (an unmap, a merge across it, a change of the upper VMA's flags). Caller holds
     * the strategy's write lock over {@code [from, to)}.
     */
    static void pruneStackMeets(MmStruct mm, long from, long to) {
        for (Long at : mm.stackMeets.subSet(from, true, to, true)) {
            Vma upper = mm.tree.find(at);
            Vma lower = upper == null ? null : mm.tree.find(at - 1);
            if (upper == null || upper.start() != at || !upper.has(VM_GROWSDOWN) || lower == null || lower.end() != at) {
                mm.stackMeets.remove(at);
            }
        }
    }

    /** {@code exit_mmap}: unmap everything (drivers' close callbacks run). */
    static void exit(MmStruct mm) {
        Locking.locked(mm, LockIntent.coarse(OpKind.EXIT, LockIntent.Mode.WRITE, 0, TASK_SIZE), guard -> {
            List<Vma> all = mm.tree.all();
            if (!all.isEmpty()) {
                unmapLocked(mm, guard, all.get(0).start(), all.get(all.size() - 1).end(), false);
            }
            return null;
        });
    }

    /**
     * exec's {@code setup_arg_pages}: the initial stack with {@code argPages} pages of arguments at its top,
     * marked [stack]. Returns the stack VMA's start.
     */
    static long setupStack(MmStruct mm, int argPages) {
        long stackTop = mm.config.stackTop();
        long size = 132 * 1024;
        long start = mm.counted(OpKind.EXEC, () -> mmap(mm, OpKind.EXEC, stackTop - size, size,
                PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, null, 0, null));
        mm.argEnd = stackTop;
        mm.argStart = stackTop - (long) argPages * PAGE_SIZE;
        for (long a = mm.argStart; a < mm.argEnd; a += PAGE_SIZE) {
            Memory.access(mm, a, Access.WRITE, a ^ 0x5a5a5a5aL);
        }
        mm.startStack = mm.argStart - PAGE_SIZE;
        return start;
    }
}
