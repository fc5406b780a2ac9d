package dev.mmlab.bench.replay;

import dev.mmlab.api.Access;
import dev.mmlab.api.FineGrainedVmOps;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmFlags;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.Vma;

/**
 * A kernel-installed special mapping ({@code [vdso]}, {@code [vvar]}, {@code [vvar_vclock]}, ...) as
 * {@code _install_special_mapping} makes it: never merges or grows ({@code VM_DONTEXPAND}), not dumped, each
 * fault hands out a device page. Its callbacks are safe under any lock that covers the VMA, as
 * {@code special_mapping_fault} is, so it does not push a fine-grained strategy onto the coarse lock.
 * Thread-safe (stateless).
 */
final class SpecialMapping extends FineGrainedVmOps {
    /** @param name the name as /proc/pid/maps shows it, brackets included */
    SpecialMapping(String name) {
        super(name);
    }

    /** A fresh device page; may return OOM when the allocator is limited. Takes no lock. */
    @Override
    public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
        return VmFault.mappedOrOom(context.allocator().allocateDevice(vma.pgoffOf(addr)));
    }

    @Override
    public long mmap(VmOpsContext context, Vma vma) {
        return vma.flags() | VmFlags.VM_DONTEXPAND | VmFlags.VM_DONTDUMP;
    }
}
