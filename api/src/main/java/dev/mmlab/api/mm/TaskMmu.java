package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.VM_LOCKED;

import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.List;

/**
 * The readers a monitor uses ({@code fs/proc/task_mmu.c}, and {@code /proc/pid/cmdline} from
 * {@code fs/proc/base.c}): {@code maps} and {@code smaps} walk the VMAs a chunk per lock acquisition, under a
 * VMA read lock where the strategy offers one (6.17) and its read lock otherwise; cmdline reads the argument
 * pages remotely under the read lock on their range.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Each VMA is read under a VMA read lock the strategy gives, or under the
 *       strategy's read guard for one chunk; the walk's position and output belong to the calling thread, and
 *       the intent's footprint moves with the VMA being read. smaps counts pages under each table's PTL.</li>
 *   <li><b>Lock order.</b> a VMA read lock or the read guard &rarr; one PTL; nothing is held between chunks.</li>
 * </ul>
 */
final class TaskMmu {
    private TaskMmu() {}

    /** A /proc/pid/maps read() returns at most this much, taking the lock once ({@code seq_file} buffer). */
    static final int CHUNK_BYTES = 4096;

    /** What a walk does with one VMA; returns the bytes it produced (a chunk holds {@link #CHUNK_BYTES}). */
    private interface VmaVisitor {
        int visit(Vma vma);
    }

    /** {@code /proc/pid/maps}; see {@link Mm#procMaps}. */
    static String maps(MmStruct mm) {
        StringBuilder out = new StringBuilder();
        walkVmas(mm, OpKind.PROC_MAPS, v -> {
            String line = line(mm, v) + "\n";
            out.append(line);
            return line.length();
        });
        return out.toString();
    }

    /** {@code /proc/pid/smaps}, the fields the model keeps; see {@link Mm#smaps}. */
    static List<Mm.SmapsEntry> smaps(MmStruct mm) {
        List<Mm.SmapsEntry> out = new ArrayList<>();
        walkVmas(mm, OpKind.SMAPS, v -> {
            long[] counts = new long[3];
            mm.pageTables.forEachPtl(v.start(), v.end(), (table, from, to) -> {
                for (long a = from; a < to; a += PAGE_SIZE) {
                    Page p = table.page(a);
                    if (p != null && p != Page.ZERO) {
                        counts[0]++;
                        if (p.kind() == Page.Kind.ANON) {
                            counts[1]++;
                        }
                        // smaps_account: dirty when the PTE or the page is; a shared file page (shmem) stays dirty
                        // after the PTE that wrote it is gone, and every mapping of it shows that.
                        if ((table.bits(a) & PteTable.DIRTY) != 0 || p.kind() == Page.Kind.FILE && p.isDirty()) {
                            counts[2]++;
                        }
                    }
                }
            });
            out.add(new Mm.SmapsEntry(line(mm, v), v.length() >> 10,
                    counts[0] * 4, counts[1] * 4, counts[2] * 4, v.has(VM_LOCKED)));
            return 1024;
        });
        return out;
    }

    /**
     * Visit every VMA in address order: under a VMA read lock when the strategy gives one, else under its read
     * lock taken once per chunk of {@link #CHUNK_BYTES}. The intent's footprint is the VMA being read. Under a
     * lock that covers only part of the space, a chunk ends where the lock's range ends.
     */
    private static void walkVmas(MmStruct mm, OpKind op, VmaVisitor costless) {
        VmaVisitor visitor = v -> {
            Sched.cost(Cost.PROC_LINE);
            return costless.visit(v);
        };
        LockTally tally = LockTally.walk();
        try {
            walkVmas(mm, op, visitor, tally);
        } finally {
            tally.record(mm.lockUse, op);
        }
    }

    private static void walkVmas(MmStruct mm, OpKind op, VmaVisitor visitor, LockTally tally) {
        long[] pos = {0};
        LockIntent vmaIntent = LockIntent.of(op, LockIntent.Mode.READ, 0, PAGE_SIZE);
        while (true) {
            Vma locked = mm.parts.lockVmaForRead(pos[0], vmaIntent);
            if (locked != null) {
                try {
                    vmaIntent.moveFootprint(locked.start(), locked.end());
                    visitor.visit(locked);
                    pos[0] = locked.end();
                } finally {
                    mm.parts.unlockVmaForRead(locked);
                }
                tally.tried(CoarseHold.NONE, false);
                mm.counters.increment(op.label() + ".vma_locked");
                continue;
            }
            Vma peek = mm.tree.findNext(pos[0]);
            if (peek == null) {
                return;
            }
            LockIntent intent = LockIntent.of(op, LockIntent.Mode.READ, Math.max(pos[0], peek.start()), peek.end());
            boolean more = Locking.locked(mm, intent, tally, guard -> {
                int bytes = 0;
                while (bytes < CHUNK_BYTES) {
                    Vma v = mm.tree.findNext(pos[0]);
                    if (v == null) {
                        return false;
                    }
                    if (!guard.covers(v.start(), v.end(), false)) {
                        if (bytes == 0) {
                            throw new Locking.NeedsWiderLock(v.start(), v.end(), false, false);
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

    /** {@code 25 + sizeof(void *) * 6 - 1}: the column the name is padded to on 64-bit. */
    private static final int NAME_COLUMN = 25 + 8 * 6 - 1;

    /**
     * {@code show_map_vma}: the line for {@code vma}, without the newline. The offset, device and inode are
     * shown only for file-backed VMAs; shared anonymous memory is {@code /dev/zero (deleted)} on device 00:01.
     */
    static String line(MmStruct mm, Vma vma) {
        BackingFile file = vma.file();
        StringBuilder sb = new StringBuilder(100);
        sb.append(String.format("%08x-%08x %s %08x %02x:%02x %d ", vma.start(), vma.end(), vma.permissions(),
                file != null ? vma.pgoff() << PAGE_SHIFT : 0, file != null ? file.major() : 0,
                file != null ? file.minor() : 0, file != null ? file.inode() : 0));
        String name = name(mm, vma);
        if (name != null) {
            while (sb.length() < NAME_COLUMN) {
                sb.append(' ');
            }
            sb.append(' ').append(name);
        }
        return sb.toString();
    }

    private static String name(MmStruct mm, Vma vma) {
        if (vma.file() != null) {
            return vma.file().path();
        }
        if (vma.ops() != null) {
            return vma.ops().name();
        }
        // vma_is_initial_heap: the VMA overlaps [start_brk, brk).
        if (vma.start() < mm.brk && vma.end() > mm.startBrk) {
            return "[heap]";
        }
        long sp = mm.startStack;
        if (sp != 0 && vma.start() <= sp && vma.end() >= sp) {
            return "[stack]";
        }
        return null;
    }

    /** {@code /proc/pid/cmdline}; see {@link Mm#readCmdline}. */
    static long[] cmdline(MmStruct mm) {
        long start = mm.argStart;
        long end = mm.argEnd;
        if (end <= start) {
            return new long[0];
        }
        return Locking.locked(mm, LockIntent.of(OpKind.CMDLINE, LockIntent.Mode.READ, start, end), guard -> {
            Locking.requireCovers(guard, start, end, false);
            long[] words = new long[(int) pages(end - start)];
            for (long a = start; a < end; a += PAGE_SIZE) {
                Long w = Memory.readRemote(mm, guard, a);
                if (w == null) {
                    throw ErrnoException.of(Errno.EFAULT, "argument page %#x is not readable", a);
                }
                words[(int) pages(a - start)] = w;
            }
            return words;
        });
    }
}
