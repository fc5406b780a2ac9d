package dev.mmlab.it.drivers;

import static dev.mmlab.api.Linux.MAP_FIXED;
import static dev.mmlab.api.Linux.MAP_SHARED;
import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PROT_READ;
import static dev.mmlab.api.Linux.PROT_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Linux;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.stats.LockWait;
import dev.mmlab.testing.TestThread;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One legacy driver must not make anonymous faults elsewhere coarse. A driver fault parks holding the
 * coarse read lock it declared; an mmap elsewhere queues behind it (it needs the range, which the coarse
 * holder covers). A fine-grained strategy still serves an anonymous fault in a third region, and records no
 * wait of that fault; rwsem cannot: its queued writer blocks every new reader ("any down_write essentially
 * turns it into a mutex"), so there the fault waits until the driver lets go. Both halves are asserted, so
 * the test fails if a fine-grained strategy takes the coarse lock for anonymous faults.
 */
class AnonFaultsStayFineTest {
    static final long ANON = 0x10000000L;
    static final long DRIVER = 0x20000000L;
    static final long LATE_MMAP = 0x40000000L;

    static List<StrategyCase> strategies() {
        return StrategyCase.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("strategies")
    void anonFaultsDoNotWaitBehindALegacyDriver(StrategyCase s) {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> run(s));
    }

    private void run(StrategyCase s) throws Exception {
        Mm mm = s.newMm();
        TestDrivers.Parking parking = new TestDrivers.Parking();
        mm.mmapDriver(DRIVER, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, parking, 0);
        mm.mmapAnon(ANON, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
        // The anon identity exists before the test (strategies may fall back for a VMA's first anon page).
        mm.write(ANON, 1);
        Queue<Throwable> errors = new ConcurrentLinkedQueue<>();

        Thread driverFault = start("driver-fault", errors, () -> mm.read(DRIVER));
        assertThat(parking.entered.await(10, TimeUnit.SECONDS)).as("driver fault entered").isTrue();
        Thread writer = start("mmap", errors,
                () -> mm.mmapAnon(LATE_MMAP, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED));
        TestThread.awaitParkedOrEnded(writer, Duration.ofMillis(50));
        assertThat(writer.isAlive()).as("an mmap must wait for the coarse holder").isTrue();

        Thread anonFault = start("anon-fault", errors, () -> mm.write(ANON + 5 * PAGE_SIZE, 42));
        anonFault.join(s.fineFaults() ? 10_000 : 300);
        if (s.fineFaults()) {
            assertThat(anonFault.isAlive()).as("%s: anon fault finished while the driver held the coarse lock", s)
                    .isFalse();
            assertThat(parking.release.getCount()).isEqualTo(1);
        } else if (s.isRwsem()) {
            assertThat(anonFault.isAlive()).as("%s: the fault queues behind the waiting writer", s).isTrue();
        }
        // Other coarse designs (a speculative fault validated by the per-mm sequence) may or may not wait here.
        parking.release.countDown();
        for (Thread t : List.of(driverFault, writer, anonFault)) {
            t.join();
        }
        assertThat(errors).isEmpty();
        assertThat(mm.read(ANON + 5 * PAGE_SIZE)).isEqualTo(42);

        List<LockWait> anonWaits = mm.waits().recent().stream()
                .filter(w -> w.waiter().op() == OpKind.FAULT
                        && Linux.overlaps(w.waiter().footprintStart(), w.waiter().footprintEnd(), ANON, ANON + 16 * PAGE_SIZE))
                .collect(Collectors.toList());
        if (s.isRwsem()) {
            assertThat(anonWaits).isNotEmpty();
        } else if (s.fineFaults()) {
            assertThat(anonWaits).as("waits of anon faults").isEmpty();
            Map<String, Long> fallbacks = mm.counters().snapshot("fault.driver_fallback");
            assertThat(fallbacks.keySet()).allSatisfy(k -> assertThat(k).endsWith(".parking"));
        }
        mm.exit();
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    /**
     * The same question without relying on a fair lock: a FINE driver's mmap hook parks holding whatever its
     * strategy took for that mmap. Under rwsem that is the mmap write lock and the anonymous fault elsewhere
     * waits; a strategy whose faults are fine-grained (the kit's granularity FAULTS or ALL) locked only the
     * driver's range, or nothing faults need, so the fault completes while the hook is parked.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("strategies")
    void anonFaultsDoNotWaitForAnMmapElsewhere(StrategyCase s) {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            Mm mm = s.newMm();
            mm.mmapAnon(ANON, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
            mm.write(ANON, 1);
            TestDrivers.ParkingMmap parking = new TestDrivers.ParkingMmap();
            Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
            Thread mapper = start("mmap", errors,
                    () -> mm.mmapDriver(DRIVER, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, parking, 0));
            assertThat(parking.entered.await(10, TimeUnit.SECONDS)).as("mmap hook entered").isTrue();
            Thread anonFault = start("anon-fault", errors, () -> mm.write(ANON + 7 * PAGE_SIZE, 43));
            anonFault.join(s.fineFaults() ? 10_000 : 300);
            if (s.fineFaults() || s.isRwsem()) {
                assertThat(anonFault.isAlive())
                        .as("%s: anon fault blocked while an mmap elsewhere is in its driver hook", s)
                        .isEqualTo(s.isRwsem());
            }
            parking.release.countDown();
            mapper.join();
            anonFault.join();
            assertThat(errors).isEmpty();
            assertThat(mm.read(ANON + 7 * PAGE_SIZE)).isEqualTo(43);
            mm.exit();
            assertThat(InvariantChecker.check(mm)).isEmpty();
        });
    }

    private static Thread start(String name, Queue<Throwable> errors, Runnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                errors.add(e);
            }
        }, name);
        t.start();
        return t;
    }
}
