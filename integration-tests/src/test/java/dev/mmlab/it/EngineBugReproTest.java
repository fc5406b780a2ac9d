package dev.mmlab.it;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.conformance.StrategyUnderTest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Regression tests for engine (api) bugs the conformance kit found, each kept as its minimal reproducer.
 */
class EngineBugReproTest {
    /**
     * Found by the stress profile (rwsem:populateDropsLock=false, 30 s): {@code Mm.unpinUserPages} decrements
     * the pin count and then removes the map entry in two steps, while {@code pinIfMapped} does
     * {@code computeIfAbsent(...).incrementAndGet()}: a pin taken between the two steps is counted on an entry
     * that is then removed, so the next unpin throws "unpin of a page not pinned by this mm" (and for a
     * normal page the checker sees a refcount the pins map does not explain). Any page two threads pin at
     * once hits it; read GUPs of untouched anonymous memory all pin the zero page. Fixed: both sides update
     * the count in one {@code compute} step.
     */
    @Test
    void concurrentPinsOfOnePageAreCounted() {
        Mm mm = StrategyUnderTest.parse("rwsem").newMm();
        long a = mm.mmapAnon(0, PAGE_SIZE, PROT_READ, 0);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long end = System.nanoTime() + 3_000_000_000L;
        Runnable pinner = () -> {
            try {
                while (System.nanoTime() < end && failure.get() == null) {
                    List<Page> pinned = mm.getUserPages(a, 1, false);
                    mm.unpinUserPages(pinned);
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
        };
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            List<Thread> threads = List.of(new Thread(pinner), new Thread(pinner), new Thread(pinner), new Thread(pinner));
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                t.join();
            }
        });
        assertThat(failure.get()).isNull();
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }
}
