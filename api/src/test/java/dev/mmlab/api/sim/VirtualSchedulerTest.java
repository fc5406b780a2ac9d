package dev.mmlab.api.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.api.sync.Cost;
import dev.mmlab.api.sync.Mutex;
import dev.mmlab.api.sync.Sched;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class VirtualSchedulerTest {
    /** Every step costs 1 ns but for the overrides. */
    static CostProfile profile(Map<Cost, Long> overrides) {
        String text = Stream.of(Cost.values()).map(c -> c + " = " + overrides.getOrDefault(c, 1L))
                .collect(Collectors.joining("\n"));
        return CostProfile.parse("test", text, "test");
    }

    private static final CostProfile FLAT = profile(Map.of(Cost.LINE_TRANSFER, 100L, Cost.WAKEUP, 10L));

    @Test
    void threadsRunInVirtualTimeOrderAndTheSameSeedGivesTheSameRun() throws Exception {
        List<String> first = interleaving(7);
        assertThat(first).hasSize(30);
        assertThat(interleaving(7)).isEqualTo(first);
        // Clocks decide the order: a thread that sleeps 10 ns a step runs three steps per 30 ns step of the other.
        assertThat(first.subList(0, 4)).containsExactlyInAnyOrder("a0", "b0", "a1", "a2");
    }

    @Test
    void withALookaheadAThreadRunsAheadByAtMostThatMuch() throws Exception {
        List<String> order = interleaving(7, 25);
        // a hands over only once it is more than 25 ns ahead of b: after a2, when its clock reaches 30 ns.
        assertThat(order.subList(0, 4)).containsExactly("a0", "a1", "a2", "b0");
    }

    private static List<String> interleaving(long seed) throws SimulationException {
        return interleaving(seed, 0);
    }

    private static List<String> interleaving(long seed, long lookahead) throws SimulationException {
        VirtualScheduler s = new VirtualScheduler(FLAT, seed, lookahead);
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        s.spawn("a", () -> {
            for (int i = 0; i < 15; i++) {
                order.add("a" + i);
                Sched.sleepNanos(10);
            }
        });
        s.spawn("b", () -> {
            for (int i = 0; i < 15; i++) {
                order.add("b" + i);
                Sched.sleepNanos(30);
            }
        });
        s.run(5_000);
        assertThat(s.elapsedNanos()).isEqualTo(450);
        return order;
    }

    @Test
    void aMutexUnderSimulationLosesNoUpdateAndParksTheLosers() throws Exception {
        VirtualScheduler s = new VirtualScheduler(FLAT, 1);
        Mutex mutex = new Mutex();
        long[] counter = {0};
        for (int t = 0; t < 8; t++) {
            s.spawn("t" + t, () -> {
                for (int i = 0; i < 200; i++) {
                    mutex.lock();
                    try {
                        long seen = counter[0];
                        Sched.sleepNanos(5); // a switch point inside the critical section
                        counter[0] = seen + 1;
                    } finally {
                        mutex.unlock();
                    }
                }
            });
        }
        s.run(5_000);
        assertThat(counter[0]).isEqualTo(1600);
        assertThat(mutex.isLocked()).isFalse();
    }

    @Test
    void writesToOneLineFromManyCoresSerialise() throws Exception {
        VirtualScheduler s = new VirtualScheduler(FLAT, 3);
        Object word = new Object();
        long[] end = new long[4];
        for (int t = 0; t < 4; t++) {
            int me = t;
            s.spawn("w" + t, () -> {
                Sched.access(word, true);
                end[me] = Sched.nanoTime();
            });
        }
        s.run(5_000);
        List<Long> ends = new ArrayList<>();
        for (long e : end) {
            ends.add(e);
        }
        Collections.sort(ends);
        // The first touch is local (1 ns); each later core waits for the one before it to get the line.
        assertThat(ends).containsExactly(1L, 101L, 201L, 301L);
    }

    @Test
    void readsOfALineNobodyWritesStayLocal() throws Exception {
        VirtualScheduler s = new VirtualScheduler(FLAT, 3);
        Object word = new Object();
        for (int t = 0; t < 4; t++) {
            s.spawn("r" + t, () -> {
                for (int i = 0; i < 10; i++) {
                    Sched.access(word, false);
                }
            });
        }
        s.run(5_000);
        assertThat(s.elapsedNanos()).isEqualTo(10);
    }

    @Test
    void unparkWakesAParkedThreadAfterTheWakeupCost() throws Exception {
        VirtualScheduler s = new VirtualScheduler(FLAT, 5);
        Thread[] sleeper = new Thread[1];
        long[] wokeAt = {-1};
        boolean[] ready = {false};
        sleeper[0] = s.spawn("sleeper", () -> {
            while (!ready[0]) {
                Sched.park(this);
            }
            wokeAt[0] = Sched.nanoTime();
        });
        s.spawn("waker", () -> {
            Sched.sleepNanos(1000);
            ready[0] = true;
            Sched.unpark(sleeper[0]);
        });
        s.run(5_000);
        assertThat(wokeAt[0]).isEqualTo(1010);
    }

    @Test
    void aDeadlockFailsTheRunNamingTheParkedThreads() {
        VirtualScheduler s = new VirtualScheduler(FLAT, 1);
        s.spawn("lonely-1", () -> Sched.park("nothing"));
        s.spawn("lonely-2", () -> Sched.park("nothing"));
        assertThatThrownBy(() -> s.run(5_000)).isInstanceOf(SimulationException.class)
                .hasMessageContaining("parked").hasMessageContaining("lonely-1").hasMessageContaining("lonely-2");
    }

    @Test
    void aThreadBlockedOutsideTheSeamFailsTheRunWithItsStack() {
        VirtualScheduler s = new VirtualScheduler(FLAT, 1);
        CountDownLatch never = new CountDownLatch(1);
        s.spawn("foreign-wait", () -> {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertThatThrownBy(() -> s.run(300)).isInstanceOf(SimulationException.class)
                .hasMessageContaining("foreign-wait").hasMessageContaining("blocked outside the seam")
                .satisfies(e -> assertThat(e.getStackTrace()).anyMatch(f -> f.getMethodName().equals("await")));
    }

    @Test
    void aThreadThatThrowsFailsTheRun() {
        VirtualScheduler s = new VirtualScheduler(FLAT, 1);
        s.spawn("ok", () -> Sched.sleepNanos(100));
        s.spawn("bad", () -> {
            throw new IllegalStateException("boom");
        });
        assertThatThrownBy(() -> s.run(5_000)).isInstanceOf(SimulationException.class).hasMessageContaining("bad")
                .hasRootCauseMessage("boom");
    }

    @Test
    void theWallClockIsUntouchedOutsideTheSimulation() {
        assertThat(Sched.onWallClock()).isTrue();
        Sched.cost(Cost.FAULT_ANON);
        Sched.access(new Object(), true);
        assertThat(Sched.current()).isSameAs(Sched.WALL_CLOCK);
    }

    /** Two threads doing an unlocked read-modify-write with a seam call in between: the lost update is a race. */
    private static long racyIncrements(VirtualScheduler s) throws SimulationException {
        long[] counter = {0};
        Object word = new Object();
        for (int t = 0; t < 2; t++) {
            s.spawn("t" + t, () -> {
                for (int i = 0; i < 3; i++) {
                    long seen = counter[0];
                    Sched.access(word, false);
                    counter[0] = seen + 1;
                    Sched.cost(Cost.SYSCALL);
                }
            });
        }
        s.run(5_000);
        return counter[0];
    }

    @Test
    void exploringFindsALostUpdateThatVirtualTimeOrderHides() throws Exception {
        assertThat(racyIncrements(new VirtualScheduler(FLAT, 1, 1_000))).as("run ahead within the lookahead").isEqualTo(6);
        long racySeeds = 0;
        for (long seed = 0; seed < 50; seed++) {
            if (racyIncrements(VirtualScheduler.exploring(FLAT, seed, 2)) < 6) {
                racySeeds++;
            }
        }
        assertThat(racySeeds).as("schedules of 50 that lose an update").isBetween(1L, 49L);
    }

    @Test
    void anExploredScheduleIsReplayedByItsSeedAndRecorded() throws Exception {
        long seed = 0;
        while (racyIncrements(VirtualScheduler.exploring(FLAT, seed, 2)) == 6) {
            seed++;
        }
        List<List<String>> runs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            VirtualScheduler s = VirtualScheduler.exploring(FLAT, seed, 2);
            assertThat(racyIncrements(s)).as("seed %d again", seed).isLessThan(6);
            runs.add(s.interleaving());
        }
        assertThat(runs.get(0)).isEqualTo(runs.get(1));
        assertThat(String.join("\n", runs.get(0))).contains("t0 ", "t1 ", "-> t", "at VirtualSchedulerTest.lambda");
    }

    @Test
    void anExploringSpinnerLetsTheThreadItWaitsForRun() throws Exception {
        for (long seed = 0; seed < 20; seed++) {
            VirtualScheduler s = VirtualScheduler.exploring(FLAT, seed, 1_000);
            boolean[] flag = {false};
            s.spawn("spinner", () -> {
                while (!flag[0]) {
                    Sched.spinWait();
                }
            });
            s.spawn("setter", () -> {
                Sched.cost(Cost.SYSCALL, 5);
                flag[0] = true;
            });
            s.run(5_000);
        }
    }
}
