package dev.mmlab.rangelock;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.testing.TestThread;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Single-threaded behaviour of the strategy, and the deterministic races its design notes describe. */
class RangeLockStrategyTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    static String[] impls() {
        return RangeLockTesting.impls();
    }

    @Test
    void isDiscoveredByNameWithItsOptions() {
        Strategies all = Strategies.discover();
        assertThat(all.names()).contains("rangelock", "rwsem");
        Strategies.Selected s = all.select("rangelock:impl=list,anonFaultGranule=0x10000");
        assertThat(s.config().get("impl")).isEqualTo("list");
        assertThat(s.config().integer("anonFaultGranule")).isEqualTo(0x10000);
        assertThat(all.select("rangelock").config().values())
                .containsEntry("impl", "tree").containsEntry("anonFaultGranule", "2097152");
        assertThatThrownBy(() -> all.select("rangelock:impl=skiplist")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tree|list");
    }

    @Test
    void rejectsAGranuleThatIsNotAPowerOfTwoPages() {
        LockingStrategy s = new RangeLockStrategy();
        for (String bad : new String[] {"3000", "12288", "0"}) {
            assertThatThrownBy(() -> Mm.create(s, StrategyConfig.of(s.name(), s.options(), Map.of("anonFaultGranule", bad)),
                    MmConfig.defaults())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("power of two");
        }
    }

    @ParameterizedTest
    @MethodSource("impls")
    void mapsFaultsSplitsMergesAndUnmaps(String impl) {
        Mm mm = RangeLockTesting.newMm(impl);
        long a = mm.mmapAnon(0, 8 * PMD_SIZE, PROT_READ | PROT_WRITE, 0);
        for (long p = a; p < a + 8 * PMD_SIZE; p += PMD_SIZE / 2) {
            mm.write(p, p);
        }
        mm.mprotect(a + PMD_SIZE, PAGE_SIZE, PROT_READ);
        assertThat(mm.tree().size()).isEqualTo(3);
        mm.mprotect(a + PMD_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE);
        assertThat(mm.tree().size()).isEqualTo(1);
        long moved = mm.mremap(a, PMD_SIZE, PMD_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, a + 16 * PMD_SIZE);
        assertThat(mm.read(moved)).isEqualTo(a);
        mm.madvise(a + 2 * PMD_SIZE, PMD_SIZE, MADV_DONTNEED);
        assertThat(mm.read(a + 2 * PMD_SIZE)).isZero();
        assertThat(mm.read(a + 3 * PMD_SIZE)).isEqualTo(a + 3 * PMD_SIZE);
        assertThat(mm.procMaps()).contains("rw-p");
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.counters().get("rangelock.fine")).isPositive();
        assertThat(mm.counters().snapshot("rangelock.coarse")).isEmpty();
        mm.exit();
        assertThat(mm.counters().get("rangelock.coarse.exit")).isEqualTo(1);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("impls")
    void guardCoversOnlyItsRangeAndModeAndIsCoarseOnlyForTheFullRange(String impl) {
        Mm mm = RangeLockTesting.newMm(impl);
        try (MmLockGuard g = mm.mmLock().lock(LockIntent.of(OpKind.MADVISE, LockIntent.Mode.READ, 0x10000, 0x20000))) {
            assertThat(g.covers(0x10000, 0x20000, false)).isTrue();
            assertThat(g.covers(0x11000, 0x12000, false)).isTrue();
            assertThat(g.covers(0x10000, 0x20000, true)).as("read guard, write asked").isFalse();
            assertThat(g.covers(0xf000, 0x11000, false)).isFalse();
            assertThat(g.covers(0x1f000, 0x21000, false)).isFalse();
            assertThat(g.coarseHold()).isEqualTo(CoarseHold.NONE);
        }
        try (MmLockGuard g = mm.mmLock().lock(LockIntent.coarse(OpKind.MMAP, LockIntent.Mode.WRITE, 0x10000, 0x20000))) {
            assertThat(g.covers(0, TASK_SIZE, true)).isTrue();
            assertThat(g.coarseHold()).isEqualTo(CoarseHold.WRITE);
        }
        MmLockGuard g = mm.mmLock().lock(LockIntent.coarse(OpKind.PROC_MAPS, LockIntent.Mode.READ, 0, PAGE_SIZE));
        assertThat(g.coarseHold()).isEqualTo(CoarseHold.READ);
        g.close();
        g.close();
        assertThat(g.covers(0, PAGE_SIZE, false)).as("released").isFalse();
        assertThat(mm.mmLock().isIdle()).isTrue();
    }

    @ParameterizedTest
    @MethodSource("impls")
    void aDriverWhoseFaultNeedsTheCoarseLockGetsTheFullRange(String impl) {
        Mm mm = RangeLockTesting.newMm(impl);
        BlockingDriver coarse = new BlockingDriver().need(VmOpsCallback.FAULT, LockNeed.COARSE_READ);
        BlockingDriver fine = new BlockingDriver();
        long c = mm.mmapDriver(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, coarse, 0);
        long f = mm.mmapDriver(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fine, 0);
        mm.read(c);
        assertThat(coarse.lastFaultHeld()).isEqualTo(CoarseHold.READ);
        assertThat(mm.counters().get("rangelock.coarse.fault_driver")).isEqualTo(1);
        mm.read(f);
        assertThat(fine.lastFaultHeld()).isEqualTo(CoarseHold.NONE);
        mm.munmap(c, 4 * PAGE_SIZE);
        mm.munmap(f, 4 * PAGE_SIZE);
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("impls")
    void aSyscallInterruptedWhileWaitingGetsEintrAndHoldsNothing(String impl) throws Exception {
        Mm mm = RangeLockTesting.newMm(impl);
        long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        assertTimeoutPreemptively(TIMEOUT, () -> {
            MmLockGuard held = mm.mmLock().lock(LockIntent.of(OpKind.MPROTECT, LockIntent.Mode.WRITE, a, a + PAGE_SIZE));
            TestThread t = TestThread.start("munmap", () -> mm.munmap(a, 4 * PAGE_SIZE));
            t.awaitBlocked();
            t.interrupt();
            Throwable thrown = t.failure();
            assertThat(thrown).isInstanceOf(ErrnoException.class);
            assertThat(((ErrnoException) thrown).errno()).isEqualTo(Errno.EINTR);
            held.close();
            assertThat(mm.mmLock().isIdle()).isTrue();
            assertThat(mm.tree().size()).as("nothing changed").isEqualTo(1);
        });
    }

    @ParameterizedTest
    @MethodSource("impls")
    void forkCopiesUnderTheFullWriteRangeAndBothSidesCopyOnWrite(String impl) {
        Mm parent = RangeLockTesting.newMm(impl);
        long a = parent.mmapAnon(0, 4 * PMD_SIZE, PROT_READ | PROT_WRITE, 0);
        parent.write(a, 1);
        parent.write(a + 3 * PMD_SIZE, 2);
        Mm child = parent.fork();
        assertThat(parent.counters().get("rangelock.coarse.fork")).isEqualTo(1);
        assertThat(child.read(a)).isEqualTo(1);
        child.write(a, 10);
        parent.write(a + 3 * PMD_SIZE, 20);
        assertThat(parent.read(a)).isEqualTo(1);
        assertThat(child.read(a + 3 * PMD_SIZE)).isEqualTo(2);
        assertThat(InvariantChecker.check(List.of(parent, child), List.of())).isEmpty();
    }
}
