package dev.mmlab.rwsem;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.testing.TestMms;
import dev.mmlab.testing.TestThread;
import java.time.Duration;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/** The three switches of the rwsem baseline, each observable, and killable waits of syscalls. */
class RwsemSwitchesTest {
    static final long P = PAGE_SIZE;
    static final int RW = PROT_READ | PROT_WRITE;

    private static BlockDevice slow(long millis) {
        return new BlockDevice("slow", 8, 16, LatencyModel.fixed(millis * 1_000_000), 0, 1);
    }

    @Test
    void isDiscoveredThroughServiceLoader() {
        assertThat(ServiceLoader.load(LockingStrategy.class).stream().map(p -> p.get().name()))
                .contains(RwsemStrategy.NAME);
    }

    /** Writer (mmap) beside a fault waiting 400 ms for I/O: returns {writer done, fault done} in ns. */
    private static long[] writerBesideSlowFault(boolean faultRetry) throws Exception {
        Mm mm = TestMms.create(new RwsemStrategy(), Map.of("faultRetry", Boolean.toString(faultRetry)));
        BlockDevice dev = slow(400);
        BackingFile f = BackingFile.regular("/f", 1, P, dev, mm.allocator());
        long a = mm.mmap(0, P, PROT_READ, MAP_PRIVATE, OpenFile.readOnly(f), 0);
        long t0 = System.nanoTime();
        CompletableFuture<Long> fault = CompletableFuture.supplyAsync(() -> {
            mm.read(a);
            return System.nanoTime() - t0;
        });
        while (dev.readCount() == 0) {
            Thread.onSpinWait();
        }
        mm.mmapAnon(0, P, RW, 0);
        long writerDone = System.nanoTime() - t0;
        long faultDone = fault.get(5, TimeUnit.SECONDS);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.counters().get("rwsem.fault_retry_io")).isEqualTo(faultRetry ? 1 : 0);
        return new long[] {writerDone, faultDone};
    }

    @Test
    void faultRetryDropsTheLockDuringIo() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            long[] on = writerBesideSlowFault(true);
            assertThat(on[0]).isLessThan(on[1] - 200_000_000L);
            long[] off = writerBesideSlowFault(false);
            assertThat(off[0]).isGreaterThanOrEqualTo(350_000_000L);
        });
    }

    /**
     * MAP_POPULATE of a 3-page file on a 150 ms disk while another thread faults on an unrelated anon page.
     * Returns how long that fault took, in ms.
     */
    private static long faultBesidePopulate(boolean populateDropsLock) throws Exception {
        Mm mm = TestMms.create(new RwsemStrategy(), Map.of("populateDropsLock", Boolean.toString(populateDropsLock)));
        long other = mm.mmapAnon(0, P, RW, 0);
        BlockDevice dev = slow(150);
        BackingFile f = BackingFile.regular("/f", 1, 3 * P, dev, mm.allocator());
        CompletableFuture<Long> populate = CompletableFuture.supplyAsync(
                () -> mm.mmap(0, 3 * P, PROT_READ, MAP_PRIVATE | MAP_POPULATE, OpenFile.readOnly(f), 0));
        while (dev.readCount() == 0) {
            Thread.onSpinWait();
        }
        long t0 = System.nanoTime();
        mm.write(other, 1);
        long took = (System.nanoTime() - t0) / 1_000_000;
        long a = populate.get(5, TimeUnit.SECONDS);
        assertThat(f.cache().isCached(2)).isTrue();
        assertThat(mm.read(a + 2 * P)).isEqualTo((1L << 32) ^ 3);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        return took;
    }

    @Test
    void populateDropsLockLetsFaultsRunDuringPopulate() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            assertThat(faultBesidePopulate(true)).isLessThan(100);
            assertThat(faultBesidePopulate(false)).isGreaterThanOrEqualTo(250);
        });
    }

    /**
     * munmap of a driver VMA whose close (declared FINE) blocks: with munmapDowngrade the zap and close run
     * under the read lock, so a fault elsewhere gets in; without it the fault waits. Returns whether the fault
     * finished while close was still blocked.
     */
    private static boolean faultDuringMunmapZap(boolean downgrade) throws Exception {
        Mm mm = TestMms.create(new RwsemStrategy(), Map.of("munmapDowngrade", Boolean.toString(downgrade)));
        long other = mm.mmapAnon(0, P, RW, 0);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        long d = mm.mmapDriver(0, 4 * P, RW, MAP_SHARED, RwsemTesting.blockingClose(LockNeed.FINE, entered, release), 0);
        CompletableFuture<Void> munmap = CompletableFuture.runAsync(() -> mm.munmap(d, 4 * P));
        assertThat(entered.await(5, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Void> fault = CompletableFuture.runAsync(() -> mm.write(other, 5));
        boolean inDuringZap;
        try {
            fault.get(300, TimeUnit.MILLISECONDS);
            inDuringZap = true;
        } catch (TimeoutException e) {
            inDuringZap = false;
        }
        release.countDown();
        munmap.get(5, TimeUnit.SECONDS);
        fault.get(5, TimeUnit.SECONDS);
        assertThat(mm.read(other)).isEqualTo(5);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        return inDuringZap;
    }

    @Test
    void munmapDowngradeLetsReadersInDuringTheZap() {
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> {
            assertThat(faultDuringMunmapZap(true)).isTrue();
            assertThat(faultDuringMunmapZap(false)).isFalse();
        });
    }

    @Test
    void interruptedSyscallGetsEintrAndChangesNothing() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            Mm mm = TestMms.create(new RwsemStrategy());
            long a = mm.mmapAnon(0, 4 * P, RW, 0);
            mm.write(a, 3);
            String before = mm.procMaps();
            MmLockGuard held = mm.mmLock().lock(LockIntent.coarse(OpKind.PROC_MAPS, LockIntent.Mode.READ, 0, P));
            TestThread t = TestThread.start("munmap", () -> mm.munmap(a, 4 * P));
            while (mm.mmLock().describe().indexOf("queued") < 0) {
                Thread.onSpinWait();
            }
            t.interrupt();
            assertThat(t.failure()).isInstanceOfSatisfying(ErrnoException.class,
                    e -> assertThat(e.errno()).isEqualTo(Errno.EINTR));
            held.close();
            assertThat(mm.mmLock().isIdle()).isTrue();
            assertThat(mm.procMaps()).isEqualTo(before);
            assertThat(mm.read(a)).isEqualTo(3);
            assertThat(mm.counters().get("munmap.EINTR")).isEqualTo(1);
            assertThat(InvariantChecker.check(mm)).isEmpty();
        });
    }

    @Test
    void unknownOptionIsRejectedListingTheValidOnes() {
        RwsemStrategy s = new RwsemStrategy();
        assertThatThrownBy(() -> StrategyConfigOf(s, Map.of("nope", "1")))
                .hasMessageContaining("faultRetry").hasMessageContaining("munmapDowngrade");
    }

    private static Object StrategyConfigOf(RwsemStrategy s, Map<String, String> m) {
        return dev.mmlab.api.StrategyConfig.of(s.name(), s.options(), m);
    }
}
