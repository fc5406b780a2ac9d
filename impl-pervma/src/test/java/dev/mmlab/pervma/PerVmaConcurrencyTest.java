package dev.mmlab.pervma;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import dev.mmlab.api.check.Violation;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.stats.LockWait;
import dev.mmlab.pervma.PerVmaTesting.HoldingDriver;
import dev.mmlab.pervma.lock.VmaLock;
import dev.mmlab.testing.TestThread;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The per-VMA protocol against real syscalls from several threads, for both lock forms: who waits for whom,
 * what a fault may see, and regression tests for the bugs found after Linux merged per-VMA locks.
 */
class PerVmaConcurrencyTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final long BASE = 0x1000_0000L;
    private static final int RW = PROT_READ | PROT_WRITE;

    private static LockIntent walker() {
        return LockIntent.of(OpKind.PROC_MAPS, LockIntent.Mode.READ, 0, PAGE_SIZE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void aFaultOnOneVmaProceedsWhileAWriterHoldsTheMmapLockAndChangesAnother(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form);
            long x = mm.mmapAnon(BASE, 4 * PAGE_SIZE, RW, MAP_FIXED);
            long y = mm.mmapAnon(BASE + 64 * PAGE_SIZE, 4 * PAGE_SIZE, RW, MAP_FIXED);
            mm.write(y, 1); // gives y its anon identity, so later write faults stay on the VMA lock
            long successBefore = mm.counters().get("pervma.success");

            MmLockGuard writer = mm.mmLock().lock(LockIntent.of(OpKind.MPROTECT, LockIntent.Mode.WRITE, x, x + 4 * PAGE_SIZE));
            TestThread onX;
            try {
                writer.startWrite(mm.tree().find(x));
                TestThread onY = TestThread.start("fault-y", () -> mm.write(y + PAGE_SIZE, 2));
                onY.finish();
                assertThat(mm.counters().get("pervma.success")).isEqualTo(successBefore + 1);

                onX = TestThread.start("fault-x", () -> assertThat(mm.read(x + PAGE_SIZE)).isZero());
                onX.awaitBlocked();
                onX.assertStillBlockedAfter(50);
                assertThat(mm.counters().get("pervma.abort")).as("x is write-locked: abort, then the mmap lock").isEqualTo(1);
            } finally {
                writer.close();
            }
            onX.finish();
            assertThat(mm.read(y + PAGE_SIZE)).isEqualTo(2);
            List<LockWait> waits = mm.waits().recent();
            assertThat(waits).hasSize(1);
            assertThat(waits.get(0).waiter().op()).isEqualTo(OpKind.FAULT);
            assertThat(waits.get(0).falseConflict()).as("the writer's footprint is x, where the fault is").isFalse();
            assertThat(PerVmaTesting.check(mm)).isEmpty();
        });
    }

    /** A shared device mapping whose first write fault is held inside the driver, under the VMA read lock. */
    private static long mapHeld(Mm mm, HoldingDriver driver) {
        return mm.mmapDriver(BASE, 4 * PAGE_SIZE, RW, MAP_SHARED | MAP_FIXED, driver, 0);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void aChangeWaitsForTheFaultInsideTheVmaAndThenAppliesToItsPte(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form);
            HoldingDriver driver = new HoldingDriver();
            long x = mapHeld(mm, driver);
            driver.hold();
            TestThread fault = TestThread.start("fault", () -> assertThat(mm.fault(x, Access.WRITE)).isEqualTo(FaultOutcome.MAPPED));
            driver.awaitEntered();

            TestThread mprotect = TestThread.start("mprotect", () -> mm.mprotect(x, 4 * PAGE_SIZE, PROT_READ));
            mprotect.awaitBlocked();
            mprotect.assertStillBlockedAfter(50);
            driver.release();
            fault.finish();
            mprotect.finish();

            assertThat(writable(mm, x)).as("mprotect ran after the fault and write-protected its PTE").isFalse();
            assertThat(PerVmaTesting.check(mm)).isEmpty();
            LockWait wait = vmaLockWait(mm);
            assertThat(wait.waiter().op()).isEqualTo(OpKind.MPROTECT);
            assertThat(wait.blockers()).singleElement().satisfies(b -> {
                assertThat(b.op()).isEqualTo(OpKind.FAULT);
                assertThat(b.footprintStart()).isEqualTo(x);
            });
            assertThat(wait.falseConflict()).isFalse();
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void aWriterWaitingForAFaultElsewhereInTheVmaIsRecordedAsAFalseConflict(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form);
            HoldingDriver driver = new HoldingDriver();
            long x = mapHeld(mm, driver);
            driver.hold();
            TestThread fault = TestThread.start("fault", () -> mm.fault(x, Access.READ));
            driver.awaitEntered();
            TestThread mprotect = TestThread.start("mprotect", () -> mm.mprotect(x + 3 * PAGE_SIZE, PAGE_SIZE, PROT_READ));
            mprotect.awaitBlocked();
            driver.release();
            fault.finish();
            mprotect.finish();
            assertThat(vmaLockWait(mm).falseConflict()).as("the split is three pages away from the fault").isTrue();
            assertThat(PerVmaTesting.check(mm)).isEmpty();
        });
    }

    /**
     * CVE-2023-4611 (mbind without vma_start_write), modelled: a change path that forgets to write-lock the VMA
     * lets a fault already inside it commit a PTE after the change. The checker must catch it. The same
     * scenario with the protection in place is {@link #aChangeWaitsForTheFaultInsideTheVmaAndThenAppliesToItsPte}.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void aChangePathThatForgetsVmaStartWriteIsCaughtByTheChecker(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form);
            HoldingDriver driver = new HoldingDriver();
            long x = mapHeld(mm, driver);
            driver.hold();
            TestThread fault = TestThread.start("fault", () -> mm.fault(x, Access.WRITE));
            driver.awaitEntered();

            PerVmaTesting.parts(mm).skipStartWrite(1);
            TestThread mprotect = TestThread.start("mprotect", () -> mm.mprotect(x, 4 * PAGE_SIZE, PROT_READ));
            // Unprotected, mprotect does not wait in vma_start_write: it publishes the read-only VMA and
            // write-protects PTEs while the fault is still inside. (The 6.15 form then waits in
            // vma_mark_detached for the reader, after the damage; the 6.4 form does not wait at all.)
            awaitDoneOrBlockedAfterChange(mm, mprotect, x);
            driver.release();
            fault.finish();
            mprotect.finish();

            assertThat(mm.counters().get("pervma.test_skipped_start_write")).isEqualTo(1);
            List<Violation> violations = PerVmaTesting.check(mm);
            assertThat(violations).anySatisfy(v -> {
                assertThat(v.rule()).isEqualTo(Violation.Rule.PTE);
                assertThat(v.detail()).contains("writable PTE in a VMA without VM_WRITE");
            });
            assertThat(violations).anySatisfy(v -> {
                assertThat(v.rule()).isEqualTo(Violation.Rule.LOCK);
                assertThat(v.detail()).contains("without vma_start_write");
            });
        });
    }

    private static void awaitDoneOrBlockedAfterChange(Mm mm, TestThread w, long addr) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (w.isAlive() && !(mm.tree().find(addr) != null && !mm.tree().find(addr).has(dev.mmlab.api.VmFlags.VM_WRITE)
                && (w.getState() == Thread.State.WAITING || w.getState() == Thread.State.TIMED_WAITING))) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("mprotect neither finished nor published its change: " + w.getState());
            }
            Thread.sleep(1);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void detachWhileAReaderHoldsTheVmaWaitsForIt(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form);
            long x = mm.mmapAnon(BASE, 4 * PAGE_SIZE, RW, MAP_FIXED);
            mm.write(x, 7);
            PerVmaInstance parts = PerVmaTesting.parts(mm);
            Vma held = parts.lockVmaForRead(x, walker());
            assertThat(held).isSameAs(mm.tree().find(x));
            VmaLock lock = PerVmaInstance.lockOf(held);

            TestThread munmap = TestThread.start("munmap", () -> mm.munmap(x + PAGE_SIZE, PAGE_SIZE));
            munmap.awaitBlocked();
            munmap.assertStillBlockedAfter(50);
            assertThat(held.isDetached()).isFalse();
            assertThat(lock.readers()).isEqualTo(1);
            assertThat(mm.tree().find(x)).as("nothing published yet").isSameAs(held);
            parts.unlockVmaForRead(held);
            munmap.finish();

            assertThat(held.isDetached()).isTrue();
            assertThat(lock.isDetached()).isTrue();
            assertThat(lock.tryStartRead(parts.mmLockSeq())).isFalse();
            assertThat(mm.tree().all()).hasSize(2).doesNotContain(held);
            assertThat(mm.read(x)).isEqualTo(7);
            assertThat(PerVmaTesting.check(mm)).isEmpty();
            mm.exit();
            assertThat(mm.allocator().livePages()).isEmpty();
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void stackExpansionWaitsForReadersOfTheStackVma(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form);
            long start = mm.setupStack(1);
            PerVmaInstance parts = PerVmaTesting.parts(mm);
            Vma stack = parts.lockVmaForRead(start, walker());
            assertThat(stack.start()).isEqualTo(start);

            TestThread grow = TestThread.start("grow", () -> mm.write(start - PAGE_SIZE, 5));
            grow.awaitBlocked();
            grow.assertStillBlockedAfter(50);
            assertThat(mm.tree().find(start - PAGE_SIZE)).as("StackRot: no expansion under a read lock").isNull();
            parts.unlockVmaForRead(stack);
            grow.finish();

            assertThat(mm.tree().all()).singleElement().satisfies(v -> assertThat(v.start()).isEqualTo(start - PAGE_SIZE));
            assertThat(stack.isDetached()).isTrue();
            assertThat(mm.counters().get("fault.stack_expand")).isEqualTo(1);
            assertThat(mm.read(start - PAGE_SIZE)).isEqualTo(5);
            assertThat(PerVmaTesting.check(mm)).isEmpty();
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void stackGrowthUnderConcurrentFaultsAndMapsReadersKeepsTheTreeSound(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form);
            long start = mm.setupStack(1);
            long end = mm.tree().find(start).end();
            int grow = 300;
            AtomicBoolean stop = new AtomicBoolean();
            TestThread grower = TestThread.start("grower", () -> {
                for (int i = 1; i <= grow; i++) {
                    mm.write(start - i * PAGE_SIZE, 1000 + i);
                }
            });
            TestThread[] faulters = new TestThread[2];
            for (int t = 0; t < faulters.length; t++) {
                int parity = t;
                faulters[t] = TestThread.start("faulter-" + t, () -> {
                    SplittableRandom rnd = new SplittableRandom(parity);
                    int pages = (int) ((end - start) >> PAGE_SHIFT) - 1; // the top page holds the arguments
                    long[] mine = new long[pages];
                    while (!stop.get()) {
                        int p = rnd.nextInt(pages / 2) * 2 + parity;
                        long addr = start + (long) p * PAGE_SIZE;
                        if (rnd.nextBoolean()) {
                            mine[p] = rnd.nextLong();
                            mm.write(addr, mine[p]);
                        }
                        assertThat(mm.read(addr)).isEqualTo(mine[p]);
                        // Read somewhere in the grown part: faults on the VMA being replaced.
                        mm.tree().find(start);
                    }
                });
            }
            TestThread maps = TestThread.start("maps", () -> {
                while (!stop.get()) {
                    assertThat(mm.procMaps()).contains("[stack]");
                }
            });
            grower.finish();
            stop.set(true);
            for (TestThread f : faulters) {
                f.finish();
            }
            maps.finish();
            assertThat(mm.tree().all()).singleElement().satisfies(v -> {
                assertThat(v.start()).isEqualTo(start - grow * PAGE_SIZE);
                assertThat(v.end()).isEqualTo(end);
            });
            for (int i = 1; i <= grow; i++) {
                assertThat(mm.read(start - i * PAGE_SIZE)).isEqualTo(1000 + i);
            }
            assertThat(mm.counters().get("fault.stack_expand")).isEqualTo(grow);
            assertThat(PerVmaTesting.check(mm)).isEmpty();
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void mapsReadsUnderVmaLocksWhileTheMmapWriteLockIsHeld(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form);
            long x = mm.mmapAnon(BASE, 4 * PAGE_SIZE, RW, MAP_FIXED);
            mm.mmapAnon(BASE + 64 * PAGE_SIZE, 4 * PAGE_SIZE, PROT_READ, MAP_FIXED);
            MmLockGuard writer = mm.mmLock().lock(LockIntent.coarse(OpKind.MMAP, LockIntent.Mode.WRITE, 0, PAGE_SIZE));
            TestThread blocked;
            try {
                TestThread free = TestThread.start("maps", () -> assertThat(mm.procMaps().lines()).hasSize(2));
                free.finish();
                assertThat(mm.counters().get("proc_maps.vma_locked")).isEqualTo(2);

                writer.startWrite(mm.tree().find(x));
                blocked = TestThread.start("maps-on-marked", () -> assertThat(mm.procMaps().lines()).hasSize(2));
                blocked.awaitBlocked();
                blocked.assertStillBlockedAfter(50);
            } finally {
                writer.close();
            }
            blocked.finish();
            assertThat(mm.counters().get("pervma.maps_fallback")).isEqualTo(1);
            assertThat(PerVmaTesting.check(mm)).isEmpty();
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void withoutMapsUnderVmaLockTheMapsReaderWaitsForTheWriter(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form, "mapsUnderVmaLock", "false");
            mm.mmapAnon(BASE, 4 * PAGE_SIZE, RW, MAP_FIXED);
            MmLockGuard writer = mm.mmLock().lock(LockIntent.coarse(OpKind.MMAP, LockIntent.Mode.WRITE, 0, PAGE_SIZE));
            TestThread maps;
            try {
                maps = TestThread.start("maps", mm::procMaps);
                maps.awaitBlocked();
                maps.assertStillBlockedAfter(50);
            } finally {
                writer.close();
            }
            maps.finish();
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void madviseDontneedRunsUnderTheVmaLockWhileTheMmapWriteLockIsHeld(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form);
            long x = mm.mmapAnon(BASE, 4 * PAGE_SIZE, RW, MAP_FIXED);
            mm.write(x, 7);
            mm.write(x + PAGE_SIZE, 8);
            MmLockGuard writer = mm.mmLock().lock(LockIntent.coarse(OpKind.MMAP, LockIntent.Mode.WRITE, 0, PAGE_SIZE));
            TestThread blocked;
            try {
                TestThread free = TestThread.start("madvise", () -> mm.madvise(x, PAGE_SIZE, MADV_DONTNEED));
                free.finish();
                assertThat(mm.counters().get("pervma.madvise.success")).isEqualTo(1);

                // A VMA the writer marked (vma_start_write) makes madvise fall back to the mmap read lock and wait.
                writer.startWrite(mm.tree().find(x));
                blocked = TestThread.start("madvise-on-marked", () -> mm.madvise(x + PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED));
                blocked.awaitBlocked();
                blocked.assertStillBlockedAfter(50);
            } finally {
                writer.close();
            }
            blocked.finish();
            assertThat(mm.counters().get("pervma.madvise.fallback.vma_locked")).isEqualTo(1);
            assertThat(mm.read(x)).isZero();
            assertThat(mm.read(x + PAGE_SIZE)).isZero();
            assertThat(PerVmaTesting.check(mm)).isEmpty();
        });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void withoutMadviseUnderVmaLockMadviseWaitsForTheWriter(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form, "madviseUnderVmaLock", "false");
            long x = mm.mmapAnon(BASE, 4 * PAGE_SIZE, RW, MAP_FIXED);
            MmLockGuard writer = mm.mmLock().lock(LockIntent.coarse(OpKind.MMAP, LockIntent.Mode.WRITE, 0, PAGE_SIZE));
            TestThread madvise;
            try {
                madvise = TestThread.start("madvise", () -> mm.madvise(x, PAGE_SIZE, MADV_DONTNEED));
                madvise.awaitBlocked();
                madvise.assertStillBlockedAfter(50);
            } finally {
                writer.close();
            }
            madvise.finish();
            assertThat(mm.counters().snapshot("pervma.madvise")).isEmpty();
        });
    }

    /**
     * A fault racing with mprotect never sees a half-applied change: once mprotect to read-only has returned,
     * no PTE in the range is writable (a fault inside the old VMA finished before the change, and its PTE was
     * write-protected; a later one saw the new VMA), and no write is lost across the splits and merges.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void faultsRacingWithMprotectNeverSeeAHalfAppliedChange(String form) {
        assertTimeoutPreemptively(TIMEOUT, () -> {
            Mm mm = PerVmaTesting.newMm(form);
            int pages = 8;
            long x = mm.mmapAnon(BASE, pages * PAGE_SIZE, RW, MAP_FIXED);
            mm.write(x, 0);
            AtomicBoolean stop = new AtomicBoolean();
            long[] expected = new long[pages];
            TestThread faulter = TestThread.start("faulter", () -> {
                SplittableRandom rnd = new SplittableRandom(1);
                while (!stop.get()) {
                    int p = rnd.nextInt(pages);
                    long v = rnd.nextLong();
                    try {
                        mm.write(x + p * PAGE_SIZE, v);
                        expected[p] = v;
                    } catch (MemoryAccessException e) {
                        assertThat(e.outcome()).isEqualTo(FaultOutcome.ACCESS);
                    }
                    assertThat(mm.read(x + p * PAGE_SIZE)).isEqualTo(expected[p]);
                }
            });
            SplittableRandom rnd = new SplittableRandom(2);
            long deadline = System.nanoTime() + 600_000_000L;
            int rounds = 0;
            while (System.nanoTime() < deadline) {
                int from = rnd.nextInt(pages);
                int len = 1 + rnd.nextInt(pages - from);
                mm.mprotect(x + from * PAGE_SIZE, len * PAGE_SIZE, PROT_READ);
                for (int p = from; p < from + len; p++) {
                    assertThat(writable(mm, x + p * PAGE_SIZE)).as("writable PTE after mprotect(PROT_READ) returned").isFalse();
                }
                mm.mprotect(x, pages * PAGE_SIZE, RW);
                rounds++;
            }
            stop.set(true);
            faulter.finish();
            assertThat(rounds).isPositive();
            assertThat(mm.tree().all()).hasSize(1);
            assertThat(PerVmaTesting.check(mm)).isEmpty();
        });
    }

    private static boolean writable(Mm mm, long addr) {
        PteTable table = mm.pageTables().lookup(addr);
        if (table == null) {
            return false;
        }
        table.ptl().lock();
        try {
            return table.page(addr) != null && (table.bits(addr) & PteTable.WRITE) != 0;
        } finally {
            table.ptl().unlock();
        }
    }

    private static LockWait vmaLockWait(Mm mm) {
        List<LockWait> waits = mm.waits().recent().stream().filter(w -> w.lockName().equals(PerVmaInstance.VMA_LOCK_NAME)).toList();
        assertThat(waits).hasSize(1);
        return waits.get(0);
    }
}
