package dev.mmlab.pervma;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.api.Access;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.stats.LockUse;
import dev.mmlab.pervma.lock.RefcountVmaLock;
import dev.mmlab.pervma.lock.RwsemVmaLock;
import dev.mmlab.pervma.lock.VmaLock;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Single-threaded behaviour of the pervma strategy: discovery, options, the fault path and its counters. */
class PerVmaStrategyTest {
    @Test
    void discoveredByServiceLoaderWithItsOptions() {
        Strategies all = Strategies.discover();
        assertThat(all.names()).contains("pervma", "rwsem");
        LockingStrategy s = all.get("pervma");
        assertThat(s).isInstanceOf(PerVmaStrategy.class);
        assertThat(s.options()).extracting(o -> o.key())
                .containsExactly("lock", "mapsUnderVmaLock", "madviseUnderVmaLock", "faultRetry", "populateDropsLock", "munmapDowngrade",
                        "forkVmaLocking");
        assertThat(all.select("pervma").config().get("lock")).isEqualTo("refcount");
        assertThatThrownBy(() -> all.select("pervma:lock=mutex")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rwsem|refcount");
    }

    @Test
    void lockOptionPicksTheForm() {
        Mm rw = PerVmaTesting.newMm("rwsem");
        Mm rc = PerVmaTesting.newMm("refcount");
        assertThat(rw.parts().newVmaState()).isInstanceOf(RwsemVmaLock.class);
        assertThat(rc.parts().newVmaState()).isInstanceOf(RefcountVmaLock.class);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void anonFaultsRunUnderTheVmaLockOnceTheAnonIdentityExists(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        long a = mm.mmapAnon(0, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);

        mm.write(a, 1);
        // vmf_anon_prepare: the first write fault needs the mmap lock to install the anon identity.
        assertThat(mm.counters().get("pervma.retry")).isEqualTo(1);
        assertThat(mm.counters().get("pervma.success")).isZero();

        for (int i = 1; i < 8; i++) {
            mm.write(a + i * PAGE_SIZE, i + 1);
        }
        assertThat(mm.counters().get("pervma.success")).isEqualTo(7);
        assertThat(mm.counters().get("pervma.retry")).isEqualTo(1);
        for (int i = 0; i < 8; i++) {
            assertThat(mm.read(a + i * PAGE_SIZE)).isEqualTo(i + 1);
        }
        assertThat(PerVmaTesting.check(mm)).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void readFaultsNeedNoAnonIdentity(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ, 0);
        assertThat(mm.read(a + PAGE_SIZE)).isZero();
        assertThat(mm.counters().get("pervma.success")).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void faultsOutsideEveryVmaAbortToTheMmapLockPath(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        assertThat(mm.fault(0x10_0000_0000L, Access.READ)).isEqualTo(FaultOutcome.SEGV);
        assertThat(mm.counters().get("pervma.abort")).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void accessErrorsAreDecidedUnderTheVmaLock(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        long a = mm.mmapAnon(0, PAGE_SIZE, PROT_READ, 0);
        assertThat(mm.fault(a, Access.WRITE)).isEqualTo(FaultOutcome.ACCESS);
        assertThat(mm.counters().get("pervma.success")).isEqualTo(1);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void driverFaultsFallBackUnlessDeclaredFine(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        PerVmaTesting.HoldingDriver fine = new PerVmaTesting.HoldingDriver();
        long a = mm.mmapDriver(0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fine, 0);
        assertThat(mm.fault(a, Access.READ)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(mm.counters().get("pervma.success")).isEqualTo(1);

        dev.mmlab.api.VmOps legacy = new dev.mmlab.api.VmOps() {
            @Override
            public String name() {
                return "legacy";
            }

            @Override
            public dev.mmlab.api.VmFault fault(dev.mmlab.api.VmOpsContext context, Vma vma, long addr, Access access) {
                context.assertLocked();
                return dev.mmlab.api.VmFault.mapped(context.allocator().allocateDevice(0));
            }
        };
        long b = mm.mmapDriver(0, PAGE_SIZE, PROT_READ, MAP_SHARED, legacy, 0);
        assertThat(mm.fault(b, Access.READ)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(mm.counters().get("pervma.retry")).isEqualTo(1);
        assertThat(PerVmaTesting.check(mm)).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void pageCacheMissDropsTheVmaLockForIoAndRetries(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        BackingFile file = BackingFile.regular("/data", 7, 4 * PAGE_SIZE, BlockDevice.instant("sda", 8, 0),
                mm.allocator());
        long a = mm.mmap(0, 4 * PAGE_SIZE, PROT_READ, MAP_PRIVATE, OpenFile.readOnly(file), 0);
        assertThat(mm.fault(a, Access.READ)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(mm.counters().get("pervma.retry")).isEqualTo(1);
        assertThat(mm.counters().get("fault.retry_io")).isEqualTo(1);
        assertThat(PerVmaTesting.parts(mm).vmaTree().find(a).lockState()).satisfies(s -> assertThat(((VmaLock) s).readers()).isZero());
        // The page is cached now: the next fault on it is a minor fault under the VMA lock.
        assertThat(mm.fault(a + PAGE_SIZE, Access.READ)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(PerVmaTesting.check(mm)).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void syscallsKeepEveryVmaLockConsistent(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        long a = mm.mmapAnon(0, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        for (int i = 0; i < 16; i++) {
            mm.write(a + i * PAGE_SIZE, i);
        }
        mm.mprotect(a + 4 * PAGE_SIZE, 4 * PAGE_SIZE, PROT_READ);
        assertThat(mm.tree().size()).isEqualTo(3);
        assertThat(PerVmaTesting.check(mm)).isEmpty();
        mm.mprotect(a + 4 * PAGE_SIZE, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE);
        assertThat(mm.tree().size()).isEqualTo(1);
        mm.munmap(a + 2 * PAGE_SIZE, PAGE_SIZE);
        long b = mm.mremap(a + 8 * PAGE_SIZE, 8 * PAGE_SIZE, 16 * PAGE_SIZE, MREMAP_MAYMOVE, 0);
        assertThat(mm.read(b + PAGE_SIZE)).isEqualTo(9);
        assertThat(mm.read(a + 3 * PAGE_SIZE)).isEqualTo(3);
        mm.brk(mm.startBrk() + 3 * PAGE_SIZE);
        mm.write(mm.startBrk(), 5);
        assertThat(mm.procMaps()).isNotEmpty();
        assertThat(mm.counters().get("proc_maps.vma_locked")).isEqualTo(mm.tree().size());
        assertThat(PerVmaTesting.check(mm)).isEmpty();
        mm.exit();
        assertThat(PerVmaTesting.check(mm)).isEmpty();
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void removedVmasAreDetachedAndRefuseReaders(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        Vma old = mm.tree().find(a);
        VmaLock lock = PerVmaInstance.lockOf(old);
        assertThat(lock.isDetached()).isFalse();
        mm.mprotect(a, PAGE_SIZE, PROT_READ);
        assertThat(old.isDetached()).isTrue();
        assertThat(lock.isDetached()).isTrue();
        assertThat(lock.tryStartRead(PerVmaTesting.parts(mm).mmLockSeq())).isFalse();
        for (Vma v : mm.tree().all()) {
            assertThat(PerVmaInstance.lockOf(v).isDetached()).isFalse();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void mapsUnderVmaLockCanBeTurnedOff(String form) {
        Mm mm = PerVmaTesting.newMm(form, "mapsUnderVmaLock", "false");
        mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ, 0);
        mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        assertThat(mm.procMaps().lines()).hasSize(2);
        assertThat(mm.counters().get("proc_maps.vma_locked")).isZero();
        assertThat(mm.parts().lockVmaForRead(0, LockIntent.of(OpKind.PROC_MAPS, LockIntent.Mode.READ, 0, PAGE_SIZE))).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void aFaultThatMustTakeTheMmapLockWhileHoldingAVmaLockIsALockOrderBug(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        long a = mm.mmapAnon(0, PAGE_SIZE, PROT_READ, 0);
        long b = mm.mmapAnon(0, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        LockIntent walker = LockIntent.of(OpKind.PROC_MAPS, LockIntent.Mode.READ, 0, PAGE_SIZE);
        Vma held = mm.parts().lockVmaForRead(a, walker);
        assertThat(held).isNotNull();
        try {
            // b has no anon identity: the write fault must fall back to the mmap lock.
            assertThatThrownBy(() -> mm.fault(b, Access.WRITE)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("lock order");
        } finally {
            mm.parts().unlockVmaForRead(held);
        }
        assertThat(mm.fault(b, Access.WRITE)).isEqualTo(FaultOutcome.MAPPED);
        assertThat(PerVmaTesting.check(mm)).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void lockUseCountsFaultsUnderTheVmaLockAsNoneAndTheirFallbacksAsRead(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        long a = mm.mmapAnon(0, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        mm.write(a, 1); // no anon identity yet: a VMA-lock try, then the mmap read lock
        mm.write(a + PAGE_SIZE, 2);
        mm.write(a + 2 * PAGE_SIZE, 3);

        LockUse use = mm.lockUse();
        assertThat(use.get(OpKind.FAULT, LockUse.Use.NONE)).isEqualTo(2);
        assertThat(use.get(OpKind.FAULT, LockUse.Use.READ)).isEqualTo(1);
        assertThat(use.get(OpKind.FAULT, LockUse.Use.FALLBACK)).isEqualTo(1);
        assertThat(use.get(OpKind.FAULT, LockUse.Use.RETRY)).isZero();
        assertThat(use.get(OpKind.MMAP, LockUse.Use.WRITE)).isEqualTo(1);

        // No VMA at the address: the fault aborts before the core and the mmap lock path says SEGV.
        assertThat(mm.fault(0x7000_0000L, Access.READ)).isEqualTo(FaultOutcome.SEGV);
        assertThat(use.get(OpKind.FAULT, LockUse.Use.READ)).isEqualTo(2);
        assertThat(use.get(OpKind.FAULT, LockUse.Use.FALLBACK)).isEqualTo(2);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void madviseInsideOneVmaRunsUnderItsLockAndAcrossVmasUnderTheMmapLock(String form) {
        Mm mm = PerVmaTesting.newMm(form);
        long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        mm.mmapAnon(a + 4 * PAGE_SIZE, 4 * PAGE_SIZE, PROT_READ, MAP_FIXED);
        mm.write(a, 5);

        mm.madvise(a, 4 * PAGE_SIZE, MADV_DONTNEED);
        assertThat(mm.read(a)).isZero();
        assertThat(mm.counters().get("pervma.madvise.success")).isEqualTo(1);
        assertThat(mm.lockUse().get(OpKind.MADVISE, LockUse.Use.NONE)).isEqualTo(1);

        mm.madvise(a, 8 * PAGE_SIZE, MADV_DONTNEED);
        assertThat(mm.counters().get("pervma.madvise.fallback.spans_vmas")).isEqualTo(1);
        assertThat(mm.lockUse().get(OpKind.MADVISE, LockUse.Use.READ)).isEqualTo(1);

        assertThatThrownBy(() -> mm.madvise(a - 4 * PAGE_SIZE, 4 * PAGE_SIZE, MADV_DONTNEED))
                .isInstanceOf(ErrnoException.class);
        assertThat(mm.counters().get("pervma.madvise.fallback.no_vma")).isEqualTo(1);

        // Errors found under the VMA lock are the same as under the mmap lock, and the lock is released.
        mm.mlock(a, PAGE_SIZE, 0);
        assertThatThrownBy(() -> mm.madvise(a, PAGE_SIZE, MADV_DONTNEED)).isInstanceOf(ErrnoException.class)
                .hasMessageContaining("locked");
        assertThat(PerVmaTesting.check(mm)).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmlab.pervma.PerVmaTesting#forms")
    void madviseUnderVmaLockCanBeTurnedOff(String form) {
        Mm mm = PerVmaTesting.newMm(form, "madviseUnderVmaLock", "false");
        long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        mm.madvise(a, PAGE_SIZE, MADV_FREE);
        assertThat(mm.counters().snapshot("pervma.madvise")).isEmpty();
        assertThat(mm.lockUse().get(OpKind.MADVISE, LockUse.Use.READ)).isEqualTo(1);
        assertThat(mm.parts().lockVmaCovering(LockIntent.of(OpKind.MADVISE, LockIntent.Mode.READ, a, a + PAGE_SIZE)))
                .isNull();
    }

    @Test
    void optionsAreValidatedAndDefaulted() {
        PerVmaStrategy s = new PerVmaStrategy();
        assertThat(dev.mmlab.api.StrategyConfig.of(s.name(), s.options(), Map.of()).values())
                .containsEntry("lock", "refcount").containsEntry("mapsUnderVmaLock", "true");
    }
}
