package dev.mmlab.drivers;

import dev.mmlab.api.Access;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FineGrainedVmOps;
import dev.mmlab.api.Linux;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.PageAllocator;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * A driver served from a page cache (a file, a shmem object), every callback FINE. The file is made on first
 * mmap with the mm's page allocator (a driver is created before any address space exists, and a
 * {@link BackingFile} needs the allocator its pages come from); every address space mapping one driver
 * instance must share that allocator, as processes of one machine do.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The binding (allocator and file) is one {@link AtomicReference}, set once
 *       by CAS: racing first mmaps may each build a file, and all but the winner's are dropped unused. After
 *       that it never changes; the file's pages are the page cache's business.</li>
 *   <li><b>Lock order.</b> none: takes no lock. {@link #vmFile} may run under any lock or none; {@link #fault}
 *       runs under whatever lock the caller holds over the VMA and may sleep in the page cache's device
 *       read, never under a PTL.</li>
 * </ul>
 */
abstract class PageCacheDriver extends FineGrainedVmOps {
    private record Bound(PageAllocator allocator, BackingFile file) {}

    private final Function<PageAllocator, BackingFile> factory;
    private final AtomicReference<Bound> bound = new AtomicReference<>();

    PageCacheDriver(String name, Function<PageAllocator, BackingFile> factory) {
        super(name);
        this.factory = factory;
    }

    /**
     * The file, made now if this is the first mapping. Any lock or none; does not block.
     *
     * @throws ErrnoException EINVAL when an address space with another allocator maps this instance
     */
    @Override
    public BackingFile vmFile(PageAllocator allocator) {
        Bound b = bound.get();
        if (b == null) {
            Bound mine = new Bound(allocator, factory.apply(allocator));
            b = bound.compareAndExchange(null, mine);
            if (b == null) {
                b = mine;
            }
        }
        if (b.allocator() != allocator) {
            throw new ErrnoException(Errno.EINVAL, "driver " + name() + " is already mapped by address spaces"
                    + " with another page allocator; create one driver instance per machine");
        }
        return b.file();
    }

    /** The file, or null before the first mmap. */
    public BackingFile file() {
        Bound b = bound.get();
        return b == null ? null : b.file();
    }

    /**
     * The page-cache page for {@code addr} with a reference for the fault. Any lock covering the VMA; may sleep
     * on the device. Beyond the end of the file: SIGBUS, as {@code filemap_fault}.
     */
    @Override
    public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
        BackingFile f = file();
        long index = vma.pgoffOf(addr);
        if (f == null || index >= Linux.pages(Linux.pageAlign(f.sizeBytes()))) {
            return VmFault.failed(FaultOutcome.BUS);
        }
        try {
            return VmFault.mapped(f.cache().read(index));
        } catch (ErrnoException e) {
            return VmFault.failed(e.errno() == Errno.ENOMEM ? FaultOutcome.OOM : FaultOutcome.BUS);
        }
    }
}
