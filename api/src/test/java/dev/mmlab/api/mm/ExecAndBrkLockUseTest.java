package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.OpKind;
import dev.mmlab.api.stats.LockUse;
import dev.mmlab.api.stats.LockUse.Use;
import dev.mmlab.api.testing.CoarseTestStrategy;
import org.junit.jupiter.api.Test;

/** Lock use as Linux 6.18 takes the mmap_lock: the mappings exec makes count as {@code exec}, not {@code mmap}. */
class ExecAndBrkLockUseTest {
    @Test
    void execMappingsAndTheStackCountAsExecNotMmap() {
        Mm mm = CoarseTestStrategy.newMm();
        mm.setupStack(2);
        long text = 0x400000L;
        mm.mmapAtExec(text, 4 * PAGE_SIZE, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, null, 0,
                null);
        mm.mmapAnon(0, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);

        LockUse use = mm.lockUse();
        assertThat(use.get(OpKind.EXEC, Use.WRITE)).isEqualTo(2);
        assertThat(use.get(OpKind.MMAP, Use.WRITE)).isEqualTo(1);
        assertThat(use.snapshot()).containsKey("exec");
        assertThat(mm.counters().get("exec.ok")).isEqualTo(2);
        assertThat(mm.counters().get("mmap.ok")).isEqualTo(1);
        assertThat(mm.procMaps()).contains("00400000-00404000 r-xp");
    }
}
