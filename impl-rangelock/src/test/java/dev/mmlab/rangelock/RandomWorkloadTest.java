package dev.mmlab.rangelock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.rwsem.RwsemStrategy;
import dev.mmlab.testing.TestMms;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The random workload with the invariant checker after it, and the false-conflict claim. */
class RandomWorkloadTest {
    private static final Logger LOG = LoggerFactory.getLogger(RandomWorkloadTest.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(40);

    static String[] impls() {
        return RangeLockTesting.impls();
    }

    @ParameterizedTest
    @MethodSource("impls")
    void fourThreadsOwnAndSharedRegionsLeaveAValidAddressSpace(String impl) {
        Mm mm = RangeLockTesting.newMm(impl);
        assertTimeoutPreemptively(TIMEOUT, () -> {
            RandomWorkload w = new RandomWorkload(mm, 4, true, true);
            long ops = w.run(3000);
            assertThat(InvariantChecker.check(mm)).isEmpty();
            w.verify();
            LOG.info("rangelock:{} random workload: {} ops, waits {} (false {}), counters {}", impl, ops,
                    mm.waits().count(), mm.waits().falseConflicts(), mm.counters().snapshot("rangelock"));
            assertThat(ops).isGreaterThan(1000);
            assertThat(mm.counters().get("rangelock.wait")).as("the shared region made threads wait").isPositive();
        });
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("impls")
    void disjointWorkRecordsNoFalseConflict(String impl) {
        Mm mm = RangeLockTesting.newMm(impl);
        assertTimeoutPreemptively(TIMEOUT, () -> {
            RandomWorkload w = new RandomWorkload(mm, 4, false, false);
            long ops = w.run(1500);
            assertThat(InvariantChecker.check(mm)).isEmpty();
            w.verify();
            LOG.info("rangelock:{} disjoint workload: {} ops, waits {} (false {})", impl, ops, mm.waits().count(),
                    mm.waits().falseConflicts());
            assertThat(ops).isGreaterThan(1000);
            assertThat(mm.waits().falseConflicts()).isZero();
            assertThat(mm.waits().count()).as("disjoint operations never wait on a range").isZero();
            assertThat(mm.counters().snapshot("rangelock.coarse")).isEmpty();
        });
    }

    /** The same disjoint work under rwsem does record false conflicts: the measurement can tell. */
    @Test
    void disjointWorkUnderRwsemRecordsFalseConflicts() {
        Mm mm = TestMms.create(new RwsemStrategy());
        assertTimeoutPreemptively(TIMEOUT, () -> {
            RandomWorkload w = new RandomWorkload(mm, 4, false, false);
            long ops = w.run(1000);
            w.verify();
            LOG.info("rwsem disjoint workload: {} ops, waits {} (false {})", ops, mm.waits().count(), mm.waits().falseConflicts());
            assertThat(mm.waits().falseConflicts()).isPositive();
        });
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }
}
