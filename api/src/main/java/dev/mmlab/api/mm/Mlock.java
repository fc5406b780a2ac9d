package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import java.util.List;

/**
 * {@code mm/mlock.c}: mlock, mlock2, munlock, mlockall and munlockall set or clear VM_LOCKED (and
 * VM_LOCKONFAULT) through the shared flag walk, then populate what they locked (after the lock is dropped,
 * through the fault path).
 */
final class Mlock {
    private Mlock() {}

    /** {@code mlock(2)}/{@code mlock2(2)}; see {@link Mm#mlock}. */
    static void mlock(MmStruct mm, long addr, long len, int flags) {
        if ((flags & ~MLOCK_ONFAULT) != 0) {
            throw ErrnoException.of(Errno.EINVAL, "unknown mlock2 flags %#x", flags);
        }
        long start = addr & PAGE_MASK;
        long end = pageAlign(addr + len);
        if (len < 0 || end < start) {
            throw new ErrnoException(Errno.EINVAL, "mlock range overflows");
        }
        if (end == start) {
            return;
        }
        long set = VM_LOCKED | ((flags & MLOCK_ONFAULT) != 0 ? VM_LOCKONFAULT : 0);
        VmaCommit.modifyFlags(mm, OpKind.MLOCK, start, end, false, VmaCommit.Holes.STOP, false, v -> lockFlags(v, set));
        if ((flags & MLOCK_ONFAULT) == 0) {
            FaultOutcome outcome = Gup.populate(mm, null, start, end);
            if (outcome == FaultOutcome.OOM) {
                throw new ErrnoException(Errno.EAGAIN, "mlock could not populate: out of memory");
            }
            if (outcome != FaultOutcome.MAPPED) {
                throw ErrnoException.of(Errno.ENOMEM, "mlock could not populate %#x-%#x: %s", start, end, outcome);
            }
        }
    }

    /** {@code munlock(2)}; see {@link Mm#munlock}. */
    static void munlock(MmStruct mm, long addr, long len) {
        long start = addr & PAGE_MASK;
        long end = pageAlign(addr + len);
        if (len < 0 || end < start) {
            throw new ErrnoException(Errno.EINVAL, "munlock range overflows");
        }
        if (end > start) {
            VmaCommit.modifyFlags(mm, OpKind.MUNLOCK, start, end, false, VmaCommit.Holes.STOP, false,
                    v -> v.flags() & ~VM_LOCKED_MASK);
        }
    }

    /** {@code mlockall(2)}; see {@link Mm#mlockall}. */
    static void mlockall(MmStruct mm, int flags) {
        if (flags == 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) != 0 || flags == MCL_ONFAULT) {
            throw ErrnoException.of(Errno.EINVAL, "mlockall flags %#x: use MCL_CURRENT and/or MCL_FUTURE, optionally MCL_ONFAULT", flags);
        }
        long set = VM_LOCKED | ((flags & MCL_ONFAULT) != 0 ? VM_LOCKONFAULT : 0);
        mm.defFlags = (flags & MCL_FUTURE) != 0 ? set : 0;
        if ((flags & MCL_CURRENT) != 0) {
            lockAll(mm, set);
            if ((flags & MCL_ONFAULT) == 0) {
                Gup.populateIgnoringErrors(mm, MMAP_MIN_ADDR, TASK_SIZE);
            }
        }
    }

    /** {@code munlockall(2)}. */
    static void munlockall(MmStruct mm) {
        mm.defFlags = 0;
        lockAll(mm, 0);
    }

    /** {@code apply_mlockall_flags}: every VMA's lock flags set to {@code set}, under the coarse write lock. */
    private static void lockAll(MmStruct mm, long set) {
        Locking.locked(mm, LockIntent.coarse(OpKind.MLOCK, LockIntent.Mode.WRITE, 0, TASK_SIZE), guard -> {
            List<Vma> all = mm.tree.all();
            if (all.isEmpty()) {
                return null;
            }
            VmaLayout.Edit edit = VmaLayout.plan(all, all.get(0).start(), all.get(all.size() - 1).end(),
                    v -> lockFlags(v, set), mm.vmaStates);
            VmaCommit.apply(mm, guard, edit, false);
            return null;
        });
    }

    /** {@code mlock_fixup}: the flags of {@code v} locked with {@code set}; special VMAs are left alone. */
    private static long lockFlags(Vma v, long set) {
        return v.isSpecial() ? v.flags() : (v.flags() & ~VM_LOCKED_MASK) | set;
    }
}
