package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.OpKind;
import dev.mmlab.api.stats.LockUse;
import dev.mmlab.api.stats.LockUse.Use;
import dev.mmlab.api.testing.CoarseTestStrategy;
import org.junit.jupiter.api.Test;

/**
 * Lock use as Linux 6.18 takes the mmap_lock: {@code brk} takes the write lock on every path (mm/mmap.c,
 * {@code SYSCALL_DEFINE1(brk)} calls {@code mmap_write_lock_killable()} first), and the mappings exec makes count
 * as {@code exec}, not {@code mmap}.
 */
class ExecAndBrkLockUseTest {
    private static final long START_BRK = 0x555555600000L;

    @Test
    void everyBrkTakesTheWriteLockOnceQueriesAndRefusalsToo() {
        Mm mm = CoarseTestStrategy.newMm();
        mm.setStartBrk(START_BRK);

        assertThat(mm.brk(0)).isEqualTo(START_BRK); // the query glibc makes first: below start_brk
        assertThat(mm.lockUse().get(OpKind.BRK, Use.WRITE)).isEqualTo(1);
        assertThat(mm.brk(START_BRK + 3 * PAGE_SIZE)).isEqualTo(START_BRK + 3 * PAGE_SIZE); // grows
        assertThat(mm.brk(START_BRK + 3 * PAGE_SIZE - 16)).isEqualTo(START_BRK + 3 * PAGE_SIZE - 16); // same page
        assertThat(mm.brk(0)).isEqualTo(START_BRK + 3 * PAGE_SIZE - 16);
        assertThat(mm.brk(TASK_SIZE + PAGE_SIZE)).isEqualTo(START_BRK + 3 * PAGE_SIZE - 16); // refused
        assertThat(mm.brk(START_BRK + PAGE_SIZE)).isEqualTo(START_BRK + PAGE_SIZE); // shrinks

        LockUse use = mm.lockUse();
        assertThat(use.get(OpKind.BRK, Use.WRITE)).isEqualTo(6);
        assertThat(use.get(OpKind.BRK, Use.READ)).isZero();
        assertThat(use.get(OpKind.BRK, Use.NONE)).isZero();
        assertThat(mm.procMaps()).contains("555555600000-555555601000 rw-p 00000000 00:00 0");
    }

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
