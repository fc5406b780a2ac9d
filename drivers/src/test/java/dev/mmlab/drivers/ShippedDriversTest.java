package dev.mmlab.drivers;

import static dev.mmlab.api.Linux.MAP_FIXED;
import static dev.mmlab.api.Linux.MAP_PRIVATE;
import static dev.mmlab.api.Linux.MAP_SHARED;
import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PROT_READ;
import static dev.mmlab.api.Linux.PROT_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmFlags;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.testing.TestMms;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each shipped driver mapped, used and unmapped under the coarse lock, with the invariant checker after. */
class ShippedDriversTest {
    private final DriverRegistry registry = DriverRegistry.discover();

    @Test
    void pagecacheFileServesFilePagesAndSharedWritesReachTheCache() {
        PageCacheFileDriver ops = (PageCacheFileDriver) registry.create("pagecache-file", Map.of("size", "64k"));
        Mm mm = TestMms.coarse();
        long a = mm.mmapDriver(0, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ops, 4 * PAGE_SIZE);
        Vma vma = mm.tree().find(a);
        assertThat(vma.file()).isSameAs(ops.file());
        assertThat(mm.procMaps()).contains("/data/pagecache-file");
        long before = mm.read(a);
        assertThat(before).isNotZero();
        mm.write(a + PAGE_SIZE, 77);
        assertThat(cachedContent(ops, 5)).isEqualTo(77);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.munmap(a, 8 * PAGE_SIZE);
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    private static long cachedContent(PageCacheFileDriver ops, long index) {
        Page page = ops.file().cache().find(index);
        try {
            return page.content();
        } finally {
            page.put();
        }
    }

    @Test
    void pagecacheFileBeyondEndOfFileIsSigbus() {
        PageCacheFileDriver ops = (PageCacheFileDriver) registry.create("pagecache-file", Map.of("size", "8k"));
        Mm mm = TestMms.coarse();
        long a = mm.mmapDriver(0, 4 * PAGE_SIZE, PROT_READ, MAP_PRIVATE, ops, 0);
        mm.read(a + PAGE_SIZE);
        assertThatThrownBy(() -> mm.read(a + 2 * PAGE_SIZE)).isInstanceOf(MemoryAccessException.class)
                .satisfies(e -> assertThat(((MemoryAccessException) e).outcome()).isEqualTo(FaultOutcome.BUS));
        mm.exit();
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @Test
    void pagecacheFilePrivateWriteCopiesOnWrite() {
        PageCacheFileDriver ops = new PageCacheFileDriver("/f", 16 * PAGE_SIZE, BlockDevice.instant("d", 8, 0));
        Mm mm = TestMms.coarse();
        long a = mm.mmapDriver(0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ops, 0);
        long original = mm.read(a);
        mm.write(a, 5);
        assertThat(mm.read(a)).isEqualTo(5);
        assertThat(cachedContent(ops, 0)).isEqualTo(original);
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @Test
    void shmemIsSharedBetweenTwoMappingsAndFreedWithTheLast() {
        SharedMemoryDriver ops = (SharedMemoryDriver) registry.create("shmem", Map.of("size", "64k"));
        Mm mm = TestMms.coarse();
        long a = mm.mmapDriver(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ops, 0);
        long b = mm.mmapDriver(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ops, 0);
        assertThat(mm.read(a)).isZero();
        mm.write(a + 2 * PAGE_SIZE, 99);
        assertThat(mm.read(b + 2 * PAGE_SIZE)).isEqualTo(99);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.munmap(a, 4 * PAGE_SIZE);
        mm.munmap(b, 4 * PAGE_SIZE);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @Test
    void legacyFbMarksThePfnMapAndClosesEachVmaOnce() {
        LegacyFramebufferDriver ops = (LegacyFramebufferDriver) registry.create("legacy-fb", Map.of("size", "64k"));
        Mm mm = TestMms.coarse();
        long a = mm.mmapDriver(0, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ops, 0);
        Vma vma = mm.tree().find(a);
        assertThat(vma.flags() & LegacyFramebufferDriver.PFNMAP_FLAGS).isEqualTo(LegacyFramebufferDriver.PFNMAP_FLAGS);
        assertThat(vma.has(VmFlags.VM_SHARED)).isTrue();
        assertThat(mm.read(a + 3 * PAGE_SIZE)).isEqualTo(LegacyFramebufferDriver.scanout(3));
        mm.write(a, 1);
        assertThat(mm.read(a)).isEqualTo(1);
        // Splitting a PFN map: the removed VMA is closed once, the two new ones opened.
        mm.munmap(a + 2 * PAGE_SIZE, PAGE_SIZE);
        assertThat(ops.closeCount()).isEqualTo(1);
        assertThat(mm.tree().size()).isEqualTo(2);
        mm.exit();
        assertThat(ops.closeCount()).isEqualTo(3);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @Test
    void legacyFbRefusesAMappingBeyondTheFrameBuffer() {
        LegacyFramebufferDriver ops = new LegacyFramebufferDriver(4 * PAGE_SIZE);
        Mm mm = TestMms.coarse();
        assertThatThrownBy(() -> mm.mmapDriver(0, 8 * PAGE_SIZE, PROT_READ, MAP_SHARED, ops, 0))
                .isInstanceOf(ErrnoException.class)
                .satisfies(e -> assertThat(((ErrnoException) e).errno()).isEqualTo(Errno.EINVAL));
        assertThat(mm.tree().size()).isZero();
    }

    @Test
    void slowDeviceSleepsInFaultAndFailsWithSigbusAtItsErrorRate() {
        SlowDeviceDriver ops = new SlowDeviceDriver(64 * PAGE_SIZE,
                new BlockDevice("slow", 240, 0, LatencyModel.fixed(2_000_000), 0, 1));
        Mm mm = TestMms.coarse();
        long a = mm.mmapDriver(0x10000000L, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, ops, 0);
        long t0 = System.nanoTime();
        assertThat(mm.read(a + PAGE_SIZE)).isEqualTo(SlowDeviceDriver.content(1));
        assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(2_000_000);
        assertThat(ops.device().readCount()).isEqualTo(1);

        SlowDeviceDriver failing = (SlowDeviceDriver) registry.create("slow-device",
                Map.of("latency", "0ns", "errorRate", "1"));
        long b = mm.mmapDriver(0, PAGE_SIZE, PROT_READ, MAP_SHARED, failing, 0);
        assertThatThrownBy(() -> mm.read(b)).isInstanceOf(MemoryAccessException.class);
        mm.exit();
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }
}
