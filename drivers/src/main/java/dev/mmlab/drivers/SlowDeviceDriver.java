package dev.mmlab.drivers;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FineGrainedVmOps;
import dev.mmlab.api.Linux;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.BlockDevice;
import java.util.Map;

/**
 * A device whose {@code fault} sleeps on I/O: each fault reads one page from a {@link BlockDevice} (a
 * sleeping wait of the configured latency, failing with SIGBUS at the configured error rate) and maps a
 * fresh device page. Every callback is declared {@link LockNeed#FINE}; under a coarse lock the fault holds
 * the mmap read lock for the whole sleep (drivers have no fault retry), which is what makes such a device
 * expensive for everyone else in the address space.
 */
public final class SlowDeviceDriver extends FineGrainedVmOps {
    public static final String NAME = "slow-device";

    private final long sizeBytes;
    private final BlockDevice device;

    /**
     * @param sizeBytes device size; faults beyond it get SIGBUS
     * @param device what each fault reads from
     */
    public SlowDeviceDriver(long sizeBytes, BlockDevice device) {
        super(NAME);
        this.sizeBytes = sizeBytes;
        this.device = device;
    }

    /** The content of a fresh page at device page {@code index}. */
    public static long content(long index) {
        return 0x5d00_0000_0000_0000L | index;
    }

    /** Any lock covering the VMA; sleeps for the device latency. */
    @Override
    public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
        long index = vma.pgoffOf(addr);
        if ((index << Linux.PAGE_SHIFT) >= sizeBytes || !device.readPage()) {
            return VmFault.failed(FaultOutcome.BUS);
        }
        return VmFault.mappedOrOom(context.allocator().allocateDevice(content(index)));
    }

    /** The device the faults read from (its read count shows how many faults slept). */
    public BlockDevice device() {
        return device;
    }

    /** The {@code slow-device} provider: {@code latency}, {@code errorRate}, {@code size}, {@code seed}. */
    public static final class Provider extends ShippedProvider {
        public Provider() {
            super(NAME, "a device whose fault sleeps on I/O (BlockDevice latency); every callback FINE",
                    Map.of("latency", "2ms", "errorRate", "0", "size", "16m", "seed", "1"));
        }

        @Override
        VmOps create(DriverParams p) {
            return new SlowDeviceDriver(p.size("size"), new BlockDevice(NAME, 240, 0, p.latency("latency"),
                    p.probability("errorRate"), p.integer("seed")));
        }
    }
}
