package dev.mmlab.api;

/** {@code vm_flags} bits, with the values of {@code include/linux/mm.h}. */
public final class VmFlags {
    private VmFlags() {}

    public static final long VM_NONE = 0;
    public static final long VM_READ = 0x1;
    public static final long VM_WRITE = 0x2;
    public static final long VM_EXEC = 0x4;
    public static final long VM_SHARED = 0x8;
    public static final long VM_MAYREAD = 0x10;
    public static final long VM_MAYWRITE = 0x20;
    public static final long VM_MAYEXEC = 0x40;
    public static final long VM_MAYSHARE = 0x80;
    public static final long VM_GROWSDOWN = 0x100;
    public static final long VM_PFNMAP = 0x400;
    public static final long VM_LOCKED = 0x2000;
    public static final long VM_IO = 0x4000;
    public static final long VM_SEQ_READ = 0x8000;
    public static final long VM_RAND_READ = 0x10000;
    public static final long VM_DONTCOPY = 0x20000;
    public static final long VM_DONTEXPAND = 0x40000;
    public static final long VM_LOCKONFAULT = 0x80000;
    public static final long VM_ACCOUNT = 0x100000;
    public static final long VM_NORESERVE = 0x200000;
    public static final long VM_WIPEONFORK = 0x2000000;
    public static final long VM_DONTDUMP = 0x4000000;
    public static final long VM_SOFTDIRTY = 0x8000000;
    public static final long VM_HUGEPAGE = 0x20000000;
    public static final long VM_NOHUGEPAGE = 0x40000000;
    public static final long VM_MERGEABLE = 0x80000000L;

    public static final long VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
    public static final long VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;
    /** Flags that never prevent a merge ({@code VM_IGNORE_MERGE}). */
    public static final long VM_IGNORE_MERGE = VM_SOFTDIRTY;

    /** {@code calc_vm_prot_bits}: PROT_* to VM_READ/WRITE/EXEC. */
    public static long fromProt(int prot) {
        long flags = 0;
        if ((prot & Linux.PROT_READ) != 0) {
            flags |= VM_READ;
        }
        if ((prot & Linux.PROT_WRITE) != 0) {
            flags |= VM_WRITE;
        }
        if ((prot & Linux.PROT_EXEC) != 0) {
            flags |= VM_EXEC;
        }
        return flags;
    }

    public static boolean has(long flags, long bit) {
        return (flags & bit) != 0;
    }
}
