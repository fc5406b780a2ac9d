package dev.mmlab.api.mm;

import dev.mmlab.api.Linux;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.BackingFile;

/** One line of {@code /proc/pid/maps} as {@code show_map_vma} in {@code fs/proc/task_mmu.c} prints it. */
public final class ProcMaps {
    /** {@code 25 + sizeof(void *) * 6 - 1}: the column the name is padded to on 64-bit. */
    static final int NAME_COLUMN = 25 + 8 * 6 - 1;

    private ProcMaps() {}

    /**
     * The line for {@code vma} in {@code mm} (heap and stack naming need the mm), without the newline. The
     * offset, device and inode are shown only for file-backed VMAs; shared anonymous memory is
     * {@code /dev/zero (deleted)} on device 00:01.
     */
    public static String line(Vma vma, Mm mm) {
        BackingFile file = vma.file();
        StringBuilder sb = new StringBuilder(100);
        sb.append(String.format("%08x-%08x %s %08x %02x:%02x %d ", vma.start(), vma.end(), vma.permissions(),
                file != null ? vma.pgoff() << Linux.PAGE_SHIFT : 0, file != null ? file.major() : 0,
                file != null ? file.minor() : 0, file != null ? file.inode() : 0));
        String name = name(vma, mm);
        if (name != null) {
            while (sb.length() < NAME_COLUMN) {
                sb.append(' ');
            }
            sb.append(' ').append(name);
        }
        return sb.toString();
    }

    static String name(Vma vma, Mm mm) {
        if (vma.file() != null) {
            return vma.file().path();
        }
        if (vma.ops() != null) {
            return vma.ops().name();
        }
        // vma_is_initial_heap: the VMA overlaps [start_brk, brk).
        if (vma.start() < mm.brkValue() && vma.end() > mm.startBrk()) {
            return "[heap]";
        }
        long sp = mm.startStack();
        if (sp != 0 && vma.start() <= sp && vma.end() >= sp) {
            return "[stack]";
        }
        return null;
    }
}
