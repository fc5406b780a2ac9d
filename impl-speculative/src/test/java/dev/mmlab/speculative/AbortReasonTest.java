package dev.mmlab.speculative;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.speculative.SpecMm.aborts;
import static dev.mmlab.speculative.SpecMm.count;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Access;
import dev.mmlab.api.FaultAttempt;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FaultResult;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.RetryReason;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.stats.LockUse;
import dev.mmlab.api.pgtable.PteTable;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Forces each abort reason deterministically and checks its counter, the fallback's result, and no leak. */
class AbortReasonTest {
    private static final Duration LIMIT = Duration.ofSeconds(10);

    private static long rw(Mm mm, int pages) {
        return mm.mmapAnon(0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void firstAnonWriteAbortsNoanonThenLaterWritesSucceed(String validation) {
        Mm mm = SpecMm.newMm(validation);
        long a = rw(mm, 4);
        assertThat(mm.fault(a, Access.WRITE)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(aborts(mm, AbortReason.VMA_NOANON)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.SUCCESS)).isZero();

        mm.write(a + PAGE_SIZE, 7);
        assertThat(mm.read(a + PAGE_SIZE)).isEqualTo(7);
        assertThat(mm.read(a + 2 * PAGE_SIZE)).isZero();
        assertThat(count(mm, SpeculativeFaultHandler.SUCCESS)).isEqualTo(2);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isEqualTo(1);
        SpecMm.assertValid(mm);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void lockUseCountsValidatedFaultsAsNoneAndAbortsAsFallbacksToTheReadLock(String validation) {
        Mm mm = SpecMm.newMm(validation);
        long a = rw(mm, 4);
        mm.write(a, 1); // vma_noanon: the mmap read lock
        mm.write(a + PAGE_SIZE, 2);
        mm.write(a + 2 * PAGE_SIZE, 3);
        LockUse use = mm.lockUse();
        assertThat(use.get(OpKind.FAULT, LockUse.Use.NONE)).isEqualTo(2);
        assertThat(use.get(OpKind.FAULT, LockUse.Use.READ)).isEqualTo(1);
        assertThat(use.get(OpKind.FAULT, LockUse.Use.FALLBACK)).isEqualTo(1);
        assertThat(use.get(OpKind.MMAP, LockUse.Use.WRITE)).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void writeToReadOnlyVmaAbortsAccessAndTheLockedPathReportsIt(String validation) {
        Mm mm = SpecMm.newMm(validation);
        long a = mm.mmapAnon(0, PAGE_SIZE, PROT_READ, 0);
        assertThat(mm.fault(a, Access.WRITE)).isEqualTo(FaultOutcome.ACCESS);
        assertThat(aborts(mm, AbortReason.VMA_ACCESS)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isEqualTo(1);
        SpecMm.assertValid(mm);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void unmappedAddressFallsBackToSegv(String validation) {
        Mm mm = SpecMm.newMm(validation);
        rw(mm, 1);
        assertThat(mm.fault(0x10000000L, Access.READ)).isEqualTo(FaultOutcome.SEGV);
        assertThat(aborts(mm, AbortReason.NO_VMA)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isEqualTo(1);
    }

    /** A device whose fault needs what {@code need} says; counts its faults. */
    private static final class Device implements VmOps {
        final LockNeed need;
        final AtomicInteger faults = new AtomicInteger();

        Device(LockNeed need) {
            this.need = need;
        }

        @Override
        public String name() {
            return "dev-" + need;
        }

        @Override
        public LockNeed lockNeed(VmOpsCallback callback) {
            return callback == VmOpsCallback.FAULT ? need : LockNeed.COARSE_WRITE;
        }

        @Override
        public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
            if (need != LockNeed.FINE) {
                context.assertLocked();
            }
            faults.incrementAndGet();
            return VmFault.mapped(context.allocator().allocateDevice(addr));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void driverNotDeclaredFineIsNeverRunSpeculatively(String validation) {
        Mm mm = SpecMm.newMm(validation);
        Device legacy = new Device(LockNeed.COARSE_READ);
        long a = mm.mmapDriver(0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, legacy, 0);
        assertThat(mm.fault(a, Access.READ)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(aborts(mm, AbortReason.VMA_NOTSUP)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isEqualTo(1);
        assertThat(legacy.faults).hasValue(1);

        Device fine = new Device(LockNeed.FINE);
        long b = mm.mmapDriver(0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fine, 0);
        assertThat(mm.fault(b, Access.READ)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(count(mm, SpeculativeFaultHandler.SUCCESS)).isEqualTo(1);
        assertThat(aborts(mm, AbortReason.VMA_NOTSUP)).isEqualTo(1);
        assertThat(fine.faults).hasValue(1);
        mm.munmap(a, 2 * PAGE_SIZE);
        mm.munmap(b, 2 * PAGE_SIZE);
        SpecMm.assertValid(mm);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void writerActiveMakesSeqOddAndTheFallbackWaitsForIt(String validation) {
        Mm mm = SpecMm.newMm(validation);
        long a = rw(mm, 4);
        mm.write(a, 1); // the anon identity exists: later faults can succeed speculatively
        mm.counters().reset();
        Vma vma = mm.tree().find(a);
        assertTimeoutPreemptively(LIMIT, () -> {
            MmLockGuard guard = mm.mmLock().lock(LockIntent.coarse(OpKind.MPROTECT, LockIntent.Mode.WRITE, a, a + PAGE_SIZE));
            CompletableFuture<FaultOutcome> fault;
            try {
                guard.startWrite(vma); // per-VMA mode: the writer marks the VMA it is about to change
                fault = CompletableFuture.supplyAsync(() -> mm.fault(a + PAGE_SIZE, Access.WRITE));
                while (count(mm, SpeculativeFaultHandler.FALLBACK) == 0) {
                    Thread.onSpinWait();
                }
                Thread.sleep(50);
                assertThat(fault).as("the fallback waits for the write lock").isNotDone();
            } finally {
                guard.close();
            }
            assertThat(fault.get()).isEqualTo(FaultOutcome.MAPPED);
        });
        assertThat(aborts(mm, AbortReason.SEQ_ODD)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isEqualTo(1);
        // The writer is gone: the next fault speculates again and succeeds.
        mm.write(a + 2 * PAGE_SIZE, 3);
        assertThat(count(mm, SpeculativeFaultHandler.SUCCESS)).isEqualTo(1);
        SpecMm.assertValid(mm);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void vmaChangedUnderTheFaultDiscardsItsPageAndFallsBack(String validation) {
        Mm mm = SpecMm.newMm(validation);
        long a = rw(mm, 4);
        mm.write(a, 1);
        mm.counters().reset();
        long livePagesBefore = mm.allocator().livePages().size();
        AtomicBoolean once = new AtomicBoolean();
        // Between lookup and commit, split the VMA (a change of the VMA the fault found, not of its page).
        SpecMm.probe(mm, (vma, addr) -> {
            if (once.compareAndSet(false, true)) {
                mm.mprotect(a + 3 * PAGE_SIZE, PAGE_SIZE, PROT_READ);
            }
        });
        assertThat(mm.fault(a + PAGE_SIZE, Access.WRITE)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(aborts(mm, AbortReason.VMA_CHANGED)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.SUCCESS)).isZero();
        // One page for the committed fault; the discarded one was released.
        assertThat(mm.allocator().livePages()).hasSize((int) livePagesBefore + 1);
        assertThat(mm.allocator().allocatedCount() - mm.allocator().freedCount()).isEqualTo(livePagesBefore + 1);
        mm.write(a + PAGE_SIZE, 5);
        assertThat(mm.read(a + PAGE_SIZE)).isEqualTo(5);
        SpecMm.assertValid(mm);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void mprotectUnderTheFaultNeverLeavesAWritablePte(String validation) {
        Mm mm = SpecMm.newMm(validation);
        long a = rw(mm, 2);
        mm.write(a, 1);
        mm.counters().reset();
        AtomicBoolean once = new AtomicBoolean();
        SpecMm.probe(mm, (vma, addr) -> {
            if (once.compareAndSet(false, true)) {
                mm.mprotect(a, 2 * PAGE_SIZE, PROT_READ);
            }
        });
        assertThat(mm.fault(a + PAGE_SIZE, Access.WRITE)).isEqualTo(FaultOutcome.ACCESS);
        assertThat(aborts(mm, AbortReason.VMA_CHANGED)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isEqualTo(1);
        assertThat(mm.read(a)).isEqualTo(1);
        SpecMm.assertValid(mm);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void munmapUnderTheFaultLeavesNoPte(String validation) {
        Mm mm = SpecMm.newMm(validation);
        long a = rw(mm, 2);
        mm.write(a, 1);
        mm.counters().reset();
        AtomicBoolean once = new AtomicBoolean();
        SpecMm.probe(mm, (vma, addr) -> {
            if (once.compareAndSet(false, true)) {
                mm.munmap(a, 2 * PAGE_SIZE);
            }
        });
        assertThat(mm.fault(a + PAGE_SIZE, Access.WRITE)).isEqualTo(FaultOutcome.SEGV);
        assertThat(aborts(mm, AbortReason.VMA_CHANGED)).isEqualTo(1);
        SpecMm.assertValid(mm);
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void freedPteTableAtCommitIsPmdChanged(String validation) {
        Mm mm = SpecMm.newMm(validation);
        long a = rw(mm, 1);
        mm.write(a, 1);
        mm.counters().reset();
        // A table freed by munmap's free_pgtables while a fault held a pointer to it.
        long elsewhere = 0x200000000L;
        PteTable stale = mm.pageTables().allocate(elsewhere);
        assertThat(mm.pageTables().freeTableIfEmpty(stale)).isTrue();
        AtomicInteger calls = new AtomicInteger();
        FaultCore core = new FaultCore() {
            @Override
            public VmaTree tree() {
                return mm.tree();
            }

            @Override
            public FaultResult fault(FaultAttempt attempt, Vma vma, long addr, Access access) {
                if (calls.incrementAndGet() > 1) {
                    return FaultResult.of(FaultOutcome.MAPPED); // the locked path
                }
                return stale.withPtl(t -> attempt.validate(t) ? FaultResult.of(FaultOutcome.MAPPED)
                        : FaultResult.retry(RetryReason.INVALIDATED));
            }
        };
        assertThat(mm.parts().faultHandler().handleFault(core, a, Access.READ)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(calls).hasValue(2);
        assertThat(aborts(mm, AbortReason.PMD_CHANGED)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void pageCacheMissWaitsForIoWithNoLockThenSpeculatesAgain(String validation) {
        Mm mm = SpecMm.newMm(validation);
        BlockDevice disk = new BlockDevice("disk", 8, 0, LatencyModel.fixed(2_000_000), 0.0, 1);
        BackingFile file = BackingFile.regular("/data", 11, 4 * PAGE_SIZE, disk, mm.allocator());
        long a = mm.mmap(0, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED, OpenFile.readOnly(file), 0);
        assertTimeoutPreemptively(LIMIT, () -> {
            // Another reader holds the mmap lock throughout: irrelevant to a fault that takes no lock, which
            // waits for the read, then speculates again and finds the page cached.
            MmLockGuard guard = mm.mmLock().lock(LockIntent.coarse(OpKind.MMAP, LockIntent.Mode.READ, 0, PAGE_SIZE));
            try {
                assertThat(mm.fault(a, Access.READ)).isEqualTo(FaultOutcome.MAPPED);
            } finally {
                guard.close();
            }
        });
        assertThat(count(mm, SpeculativeFaultHandler.RETRY_IO)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.SUCCESS)).isEqualTo(1);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isZero();
        assertThat(disk.readCount()).isEqualTo(1);
        SpecMm.assertValid(mm);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vma", "mm"})
    void fileBeyondEndIsBusWithoutALock(String validation) {
        Mm mm = SpecMm.newMm(validation);
        BackingFile file = BackingFile.regular("/small", 12, PAGE_SIZE, BlockDevice.instant("d", 8, 1), mm.allocator());
        long a = mm.mmap(0, 4 * PAGE_SIZE, PROT_READ, MAP_PRIVATE, OpenFile.readOnly(file), 0);
        assertThat(mm.fault(a + 2 * PAGE_SIZE, Access.READ)).isEqualTo(FaultOutcome.BUS);
        assertThat(count(mm, SpeculativeFaultHandler.SUCCESS)).isEqualTo(1);
        mm.read(a); // inside the file: maps, speculatively too
        assertThat(count(mm, SpeculativeFaultHandler.SUCCESS)).isEqualTo(2);
        assertThat(count(mm, SpeculativeFaultHandler.FALLBACK)).isZero();
        SpecMm.assertValid(mm);
    }
}
