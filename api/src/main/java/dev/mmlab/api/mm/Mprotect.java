package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;

import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.VmFlags;
import dev.mmlab.api.Vma;
import dev.mmlab.api.pgtable.PteTable;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code mm/mprotect.c}: mprotect's argument checks and flag rule, and {@code change_protection}, which
 * takes from PTEs the permissions a VMA no longer grants. The walk over the VMAs is
 * {@link VmaCommit#modifyFlags}, shared with mlock and madvise. A private locked VMA made writable is populated
 * afterwards, through the fault path, with the strategy's lock dropped.
 */
final class Mprotect {
    private Mprotect() {}

    /** {@code mprotect(2)}; see {@link Mm#mprotect}. */
    static void mprotect(MmStruct mm, long addr, long len, int prot) {
        int grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
        if (grows == (PROT_GROWSDOWN | PROT_GROWSUP)) {
            throw new ErrnoException(Errno.EINVAL, "PROT_GROWSDOWN and PROT_GROWSUP together");
        }
        if (!isPageAligned(addr)) {
            throw ErrnoException.of(Errno.EINVAL, "mprotect address %#x is not page aligned", addr);
        }
        if (len == 0) {
            return;
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
        boolean growsDown = (grows & PROT_GROWSDOWN) != 0;
        // Start -> end of each changed range to populate; a map, as a retried walk plans the same VMAs again.
        Map<Long, Long> toPopulate = new TreeMap<>();
        try {
            VmaCommit.modifyFlags(mm, OpKind.MPROTECT, addr, end, growsDown, VmaCommit.Holes.STOP, true, v -> {
                long flags = newFlags(v, newProt);
                if ((v.flags() & (VM_WRITE | VM_SHARED | VM_LOCKED)) == VM_LOCKED && (flags & VM_WRITE) != 0) {
                    toPopulate.put(growsDown ? v.start() : Math.max(v.start(), addr), Math.min(v.end(), end));
                }
                return flags;
            });
        } finally {
            // mprotect_fixup: a private VM_LOCKED VMA becoming writable is populated with write faults (COW
            // broken now, not at the first access), ignoring errors; also for the VMAs changed before an error.
            toPopulate.forEach((from, to) -> Gup.populate(mm, null, from, to));
        }
    }

    /** {@code mprotect_fixup}'s new flags for {@code v}: the access bits of {@code newProt}, and the commit charge. */
    private static long newFlags(Vma v, long newProt) {
        long flags = (v.flags() & ~VM_ACCESS_FLAGS) | newProt;
        if ((flags & ~(flags >> 4) & VM_ACCESS_FLAGS) != 0) {
            throw ErrnoException.of(Errno.EACCES, "%s does not allow %s (the file was opened without it)", v,
                    permissions(newProt));
        }
        if ((flags & VM_WRITE) != 0) {
            if ((v.flags() & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE)) == 0) {
                flags |= VM_ACCOUNT;
            }
        } else if (v.isAnonymous() && v.anon() == null) {
            // Linux 6.7+ mprotect_fixup: an anon VMA made read-only before its first page gives its commit charge
            // back, so it no longer merges with a VM_ACCOUNT neighbour.
            flags &= ~VM_ACCOUNT;
        }
        return flags;
    }

    private static String permissions(long flags) {
        return ((flags & VM_READ) != 0 ? "r" : "-") + ((flags & VM_WRITE) != 0 ? "w" : "-") + ((flags & VM_EXEC) != 0 ? "x" : "-");
    }

    /**
     * {@code change_protection}: clear the PTE permission bits in {@code [start, end)} that {@code flags} no
     * longer allow. Caller holds a write guard over the range.
     */
    static void changeProtection(MmStruct mm, long start, long end, long flags) {
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
        int keep = mask;
        mm.pageTables.forEachPtl(start, end, (table, from, to) -> {
            for (long a = from; a < to; a += PAGE_SIZE) {
                if (table.page(a) != null) {
                    table.setBits(a, table.bits(a) & keep);
                }
            }
        });
    }
}
