package dev.mmlab.api.mem;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.RepeatedTest;

/** The limit is exact under contention: allocations racing for the last pages never exceed it together. */
class PageAllocatorLimitTest {
    @RepeatedTest(20)
    void racingAllocationsNeverExceedTheLimit() {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            int limit = 64;
            int threads = 4;
            PageAllocator allocator = new PageAllocator(limit, 0, LatencyModel.none(), 1);
            CyclicBarrier barrier = new CyclicBarrier(threads);
            AtomicInteger got = new AtomicInteger();
            AtomicLong maxLive = new AtomicLong();
            List<Thread> ts = new ArrayList<>();
            List<List<Page>> held = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                List<Page> mine = new ArrayList<>();
                held.add(mine);
                Thread th = new Thread(() -> {
                    try {
                        barrier.await();
                        for (int i = 0; i < limit; i++) {
                            Page p = allocator.allocateAnon(i);
                            if (p != null) {
                                mine.add(p);
                                got.incrementAndGet();
                                maxLive.accumulateAndGet(allocator.livePages().size(), Math::max);
                            }
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                ts.add(th);
                th.start();
            }
            for (Thread th : ts) {
                th.join();
            }
            assertThat(got.get()).isEqualTo(limit);
            assertThat(maxLive.get()).isLessThanOrEqualTo(limit);
            assertThat(allocator.failureCount()).isEqualTo((long) threads * limit - limit);
            for (List<Page> mine : held) {
                for (Page p : mine) {
                    p.put();
                }
            }
            assertThat(allocator.livePages()).isEmpty();
            assertThat(allocator.allocateAnon(0)).isNotNull();
        });
    }
}
