package dev.mmlab.it.drivers;

import static dev.mmlab.api.Linux.MAP_FIXED;
import static dev.mmlab.api.Linux.MAP_SHARED;
import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PROT_READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A driver that declares FINE but relies on the mmap lock ({@link TestDrivers.Liar}) is caught by its own
 * assertions wherever a strategy runs it without that lock: an IllegalStateException naming the driver, the
 * callback and the lock. Where the strategy happens to hold the coarse lock the lie passes silently, which is
 * why the declaration, not the strategy, must be right:
 * <ul>
 *   <li>rwsem's fault always holds the mmap read lock, so the fault's lie is never seen under rwsem;</li>
 *   <li>rwsem's munmap downgrades to the read lock before zapping (Linux 4.20) unless a close declares the
 *       write lock, so a close that lies is caught even under rwsem.</li>
 * </ul>
 * The rule checked for every strategy: the assertion fails exactly when the callback ran without the lock.
 */
class WrongDeclarationTest {
    static final long AT = 0x30000000L;

    static List<StrategyCase> strategies() {
        return StrategyCase.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("strategies")
    void aFaultThatLiesIsCaughtWhenRunWithoutTheCoarseLock(StrategyCase s) {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            Mm mm = s.newMm();
            TestDrivers.Liar liar = new TestDrivers.Liar();
            mm.mmapDriver(AT, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, liar, 0);
            Throwable thrown = catchThrowable(() -> mm.read(AT + PAGE_SIZE));
            CoarseHold held = liar.held.get(VmOpsCallback.FAULT);
            assertThat(held).as("the fault reached the driver").isNotNull();
            if (s.isRwsem()) {
                assertThat(held).as("rwsem always holds the mmap read lock in a fault").isEqualTo(CoarseHold.READ);
            }
            if (s.isTestStrategy()) {
                assertThat(held).as("a FINE declaration gets no coarse lock").isEqualTo(CoarseHold.NONE);
            }
            if (held.satisfies(LockNeed.COARSE_READ)) {
                assertThat(thrown).isNull();
                assertThat(mm.counters().get("driver.liar.assert_failed")).isZero();
            } else {
                assertThat(thrown).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("driver liar")
                        .hasMessageContaining("in fault")
                        .hasMessageContaining("mmap_assert_locked")
                        .hasMessageContaining("COARSE_READ");
                assertThat(mm.counters().get("driver.liar.assert_failed")).isEqualTo(1);
            }
            // A failed assertion leaves no lock behind and no half-made mapping.
            assertThat(mm.mmLock().isIdle()).as(mm.mmLock().describe()).isTrue();
            liar.held.clear();
            catchThrowable(mm::exit);
            assertThat(InvariantChecker.check(mm)).isEmpty();
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("strategies")
    void aCloseThatLiesIsCaughtWhenRunWithoutTheWriteLock(StrategyCase s) {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            Mm mm = s.newMm();
            TestDrivers.Liar liar = new TestDrivers.Liar();
            mm.mmapDriver(AT, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, liar, 0);
            Throwable thrown = catchThrowable(() -> mm.munmap(AT, 4 * PAGE_SIZE));
            CoarseHold held = liar.held.get(VmOpsCallback.CLOSE);
            assertThat(held).as("close ran").isNotNull();
            if (s.isTestStrategy()) {
                assertThat(held).isEqualTo(CoarseHold.NONE);
            }
            if (held == CoarseHold.WRITE) {
                assertThat(thrown).isNull();
            } else {
                assertThat(thrown).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("driver liar")
                        .hasMessageContaining("in close")
                        .hasMessageContaining("mmap_assert_write_locked")
                        .hasMessageContaining("COARSE_WRITE");
            }
            assertThat(mm.tree().size()).as("the unmap itself happened").isZero();
            assertThat(mm.mmLock().isIdle()).as(mm.mmLock().describe()).isTrue();
            assertThat(InvariantChecker.check(mm)).isEmpty();
        });
    }
}
