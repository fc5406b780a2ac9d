package dev.mmlab.rwsem;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.OpKind;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.stats.LockUse;
import dev.mmlab.api.stats.LockUse.Use;
import dev.mmlab.testing.TestMms;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How the baseline's operations are locked, as the engine counts them: everything under the mmap lock. */
class LockUseTest {
    @Test
    void mmapTakesTheWriteLockAndAFaultTheReadLock() {
        Mm mm = TestMms.create(new RwsemStrategy());
        long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        mm.write(a, 1);
        mm.madvise(a, PAGE_SIZE, MADV_DONTNEED);
        mm.munmap(a, 4 * PAGE_SIZE);

        LockUse use = mm.lockUse();
        assertThat(use.get(OpKind.MMAP, Use.WRITE)).isEqualTo(1);
        assertThat(use.get(OpKind.FAULT, Use.READ)).isEqualTo(1);
        assertThat(use.get(OpKind.FAULT, Use.NONE)).isZero();
        assertThat(use.get(OpKind.FAULT, Use.FALLBACK)).isZero();
        assertThat(use.get(OpKind.MADVISE, Use.READ)).isEqualTo(1);
        assertThat(use.get(OpKind.MUNMAP, Use.WRITE)).isEqualTo(1);
        assertThat(use.snapshot()).containsOnlyKeys("fault", "madvise", "mmap", "munmap");
        assertThat(use.snapshot().get("fault")).containsExactly(Map.entry("read", 1L), Map.entry("write", 0L),
                Map.entry("none", 0L), Map.entry("fallback", 0L), Map.entry("retry", 0L));
    }

    @Test
    void aFaultThatDropsTheLockForIoCountsARetry() {
        Mm mm = TestMms.create(new RwsemStrategy());
        BlockDevice disk = new BlockDevice("disk", 8, 16, LatencyModel.fixed(1_000), 0, 1);
        BackingFile file = BackingFile.regular("/data", 1, PAGE_SIZE, disk, mm.allocator());
        long a = mm.mmap(0, PAGE_SIZE, PROT_READ, MAP_PRIVATE, OpenFile.readOnly(file), 0);
        mm.read(a);

        assertThat(mm.lockUse().get(OpKind.FAULT, Use.READ)).isEqualTo(1);
        assertThat(mm.lockUse().get(OpKind.FAULT, Use.RETRY)).isEqualTo(1);
        assertThat(mm.counters().get("rwsem.fault_retry_io")).isEqualTo(1);
    }

    @Test
    void procMapsIsOneReadLockedWalk() {
        Mm mm = TestMms.create(new RwsemStrategy());
        mm.mmapAnon(0, PAGE_SIZE, PROT_READ, 0);
        mm.procMaps();
        assertThat(mm.lockUse().get(OpKind.PROC_MAPS, Use.READ)).isEqualTo(1);
        assertThat(mm.lockUse().get(OpKind.PROC_MAPS, Use.RETRY)).isZero();
    }
}
