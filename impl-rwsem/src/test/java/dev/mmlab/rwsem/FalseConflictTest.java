package dev.mmlab.rwsem;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.stats.LockWait;
import dev.mmlab.testing.TestMms;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Under rwsem a fault on range B waits behind an munmap of a disjoint range A: a false conflict, the quantity
 * mmlab exists to measure. A fault inside A waiting behind the same munmap is a true conflict.
 */
class FalseConflictTest {
    static final long P = PAGE_SIZE;

    @Test
    void faultOnDisjointRangeBehindMunmapIsAFalseConflict() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            Mm mm = TestMms.create(new RwsemStrategy());
            long b = mm.mmapAnon(0, P, PROT_READ | PROT_WRITE, 0);
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            // close needs the write lock, so munmap keeps it (no downgrade) while close blocks.
            long a = mm.mmapDriver(0, 4 * P, PROT_READ, MAP_SHARED,
                    RwsemTesting.blockingClose(LockNeed.COARSE_WRITE, entered, release), 0);
            CompletableFuture<Void> munmap = CompletableFuture.runAsync(() -> mm.munmap(a, 4 * P));
            assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<FaultOutcome> onB = CompletableFuture.supplyAsync(() -> mm.fault(b, Access.WRITE));
            CompletableFuture<FaultOutcome> inA = CompletableFuture.supplyAsync(() -> mm.fault(a + P, Access.READ));
            while (mm.mmLock().describe().split(" R ").length < 3) {
                Thread.onSpinWait();
            }
            Thread.sleep(20);
            release.countDown();
            munmap.get(5, TimeUnit.SECONDS);
            assertThat(onB.get(5, TimeUnit.SECONDS)).isEqualTo(FaultOutcome.MAPPED);
            assertThat(inA.get(5, TimeUnit.SECONDS)).isEqualTo(FaultOutcome.SEGV);

            List<LockWait> faultWaits = mm.waits().recent().stream()
                    .filter(w -> w.waiter().op() == OpKind.FAULT).toList();
            assertThat(faultWaits).hasSize(2);
            LockWait waitB = faultWaits.stream().filter(w -> w.waiter().footprintStart() == b).findFirst().orElseThrow();
            LockWait waitA = faultWaits.stream().filter(w -> w.waiter().footprintStart() == a + P).findFirst().orElseThrow();
            assertThat(waitB.falseConflict()).isTrue();
            assertThat(waitB.blockers()).anyMatch(x -> x.op() == OpKind.MUNMAP);
            assertThat(waitB.waitNanos()).isGreaterThanOrEqualTo(15_000_000L);
            assertThat(waitA.falseConflict()).isFalse();
            assertThat(mm.waits().falseConflicts()).isGreaterThanOrEqualTo(1);
            assertThat(mm.waits().byCause()).anySatisfy((cause, total) -> {
                assertThat(cause.waiterOp()).isEqualTo("fault");
                assertThat(cause.blockerOp()).isEqualTo("munmap");
                assertThat(cause.falseConflict()).isTrue();
            });
            assertThat(InvariantChecker.check(mm)).isEmpty();
        });
    }
}
