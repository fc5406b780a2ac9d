package com.example.naive;

import static dev.mmlab.api.Linux.MAP_FIXED;
import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PROT_READ;
import static dev.mmlab.api.Linux.PROT_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;

/**
 * The example strategy against the api alone: found by ServiceLoader, single-threaded semantics, then
 * threads mapping, faulting and unmapping at once, with the invariant checker after each.
 */
class NaiveStrategyTest {
    private static Mm newMm() {
        return Mm.create(Strategies.discover().select(NaiveStrategy.NAME), MmConfig.defaults());
    }

    @Test
    void isFoundByServiceLoader() {
        assertThat(Strategies.discover().names()).contains(NaiveStrategy.NAME);
    }

    @Test
    void mapWriteReadProtectUnmap() {
        Mm mm = newMm();
        long a = mm.mmapAnon(0, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        mm.write(a + 3 * PAGE_SIZE, 42);
        assertThat(mm.read(a + 3 * PAGE_SIZE)).isEqualTo(42);
        assertThat(mm.read(a)).isZero();
        mm.mprotect(a + 2 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ);
        assertThat(mm.tree().size()).isEqualTo(3);
        assertThatThrownBy(() -> mm.write(a + 3 * PAGE_SIZE, 1)).isInstanceOf(MemoryAccessException.class);
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.munmap(a, 8 * PAGE_SIZE);
        assertThat(mm.tree().size()).isZero();
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @Test
    void threadsOnDisjointRegionsKeepTheirData() {
        assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
            Mm mm = newMm();
            Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                long base = 0x10000000L + t * 0x1000000L;
                threads.add(new Thread(() -> {
                    try {
                        for (int round = 0; round < 50; round++) {
                            long a = mm.mmapAnon(base, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                            for (int p = 0; p < 16; p++) {
                                mm.write(a + p * PAGE_SIZE, base + p + round);
                            }
                            for (int p = 0; p < 16; p++) {
                                assertThat(mm.read(a + p * PAGE_SIZE)).isEqualTo(base + p + round);
                            }
                            mm.munmap(a, 16 * PAGE_SIZE);
                        }
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }));
            }
            threads.forEach(Thread::start);
            for (Thread t : threads) {
                t.join();
            }
            assertThat(errors).isEmpty();
            assertThat(mm.mmLock().isIdle()).as(mm.mmLock().describe()).isTrue();
            assertThat(InvariantChecker.check(mm)).isEmpty();
            assertThat(mm.allocator().livePages()).isEmpty();
        });
    }
}
