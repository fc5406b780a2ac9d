package dev.mmlab.api.mem;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.testing.CoarseTestStrategy;
import dev.mmlab.api.testing.TestFiles;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

class PageCacheAndDeviceTest {
    @Test
    void concurrentMissesShareOneRead() {
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
            PageAllocator alloc = new PageAllocator();
            BlockDevice slow = TestFiles.slowDevice(150);
            BackingFile f = BackingFile.regular("/f", 1, 4 * PAGE_SIZE, slow, alloc);
            CyclicBarrier start = new CyclicBarrier(3);
            java.util.List<CompletableFuture<Page>> readers = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                readers.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    return f.cache().read(2);
                }, r -> new Thread(r).start()));
            }
            Page first = readers.get(0).get();
            assertThat(readers.get(1).get()).isSameAs(first);
            assertThat(readers.get(2).get()).isSameAs(first);
            assertThat(slow.readCount()).isEqualTo(1);
            assertThat(f.cache().missCount()).isEqualTo(1);
            assertThat(first.refcount()).isEqualTo(4);
            for (CompletableFuture<Page> r : readers) {
                r.get().put();
            }
            assertThat(f.cache().evictUnmapped()).isEqualTo(1);
            assertThat(alloc.livePages()).isEmpty();
        });
    }

    @Test
    void evictionWritesDirtyPagesBackSoNothingIsLost() {
        Mm mm = CoarseTestStrategy.newMm();
        BackingFile f = TestFiles.file(mm, 4);
        long a = mm.mmap(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, TestFiles.rw(f), 0);
        for (int i = 0; i < 4; i++) {
            mm.write(a + i * PAGE_SIZE, 1000 + i);
        }
        assertThat(f.cache().evictUnmapped()).as("mapped pages stay").isZero();
        mm.munmap(a, 4 * PAGE_SIZE);
        assertThat(f.cache().evictUnmapped()).isEqualTo(4);
        assertThat(mm.allocator().livePages()).isEmpty();
        long reads = f.device().readCount();
        long b = mm.mmap(0, 4 * PAGE_SIZE, PROT_READ, MAP_PRIVATE, TestFiles.ro(f), 0);
        for (int i = 0; i < 4; i++) {
            assertThat(mm.read(b + i * PAGE_SIZE)).isEqualTo(1000 + i);
        }
        assertThat(f.device().readCount()).isEqualTo(reads + 4);
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @Test
    void errorInjectionFailsReadsWithEioAndLeavesNoEntry() {
        PageAllocator alloc = new PageAllocator();
        BlockDevice always = new BlockDevice("bad", 8, 0, LatencyModel.none(), 1.0, 3);
        BackingFile f = BackingFile.regular("/f", 1, PAGE_SIZE, always, alloc);
        assertThatThrownBy(() -> f.cache().read(0)).isInstanceOfSatisfying(ErrnoException.class,
                e -> assertThat(e.errno()).isEqualTo(Errno.EIO));
        assertThat(f.cache().isCached(0)).isFalse();
        assertThat(alloc.livePages()).isEmpty();
        BlockDevice half = new BlockDevice("flaky", 8, 0, LatencyModel.none(), 0.5, 42);
        int failures = 0;
        for (int i = 0; i < 200; i++) {
            if (!half.readPage()) {
                failures++;
            }
        }
        assertThat(failures).isBetween(60, 140);
        assertThat(half.errorCount()).isEqualTo(failures);
        assertThatThrownBy(() -> new BlockDevice("x", 1, 1, LatencyModel.none(), 1.5, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void latencyModelsParseAndSleep() {
        assertThat(LatencyModel.parse("2ms").sampleNanos(new SplittableRandom(1))).isEqualTo(2_000_000);
        assertThat(LatencyModel.parse("fixed:500us").sampleNanos(new SplittableRandom(1))).isEqualTo(500_000);
        assertThat(LatencyModel.parse("1s").sampleNanos(new SplittableRandom(1))).isEqualTo(1_000_000_000);
        assertThat(LatencyModel.parse("250ns").sampleNanos(new SplittableRandom(1))).isEqualTo(250);
        LatencyModel uniform = LatencyModel.parse("uniform:1ms..5ms");
        LatencyModel exp = LatencyModel.parse("exp:3ms");
        SplittableRandom r = new SplittableRandom(9);
        long sum = 0;
        for (int i = 0; i < 2000; i++) {
            assertThat(uniform.sampleNanos(r)).isBetween(1_000_000L, 5_000_000L);
            long e = exp.sampleNanos(r);
            assertThat(e).isNotNegative();
            sum += e;
        }
        assertThat(sum / 2000).isBetween(2_500_000L, 3_500_000L);
        assertThat(uniform.toString()).isEqualTo("uniform:1ms..5ms");
        for (String bad : new String[] {"", "5", "uniform:1ms", "uniform:5ms..1ms", "-1ms", "fast"}) {
            assertThatThrownBy(() -> LatencyModel.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("uniform:1ms..5ms");
        }
        long t0 = System.nanoTime();
        LatencyModel.fixed(20_000_000).sleep(r);
        assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(20_000_000);
    }

    @Test
    void reclaimStallSleepsAndCounts() {
        PageAllocator stalling = new PageAllocator(0, 1.0, LatencyModel.fixed(5_000_000), 1);
        long t0 = System.nanoTime();
        Page p = stalling.allocateAnon(1);
        assertThat(System.nanoTime() - t0).isGreaterThanOrEqualTo(5_000_000);
        assertThat(stalling.stallCount()).isEqualTo(1);
        p.put();
        assertThat(stalling.livePages()).isEmpty();
        assertThatThrownBy(p::put).isInstanceOf(IllegalStateException.class);
    }
}
