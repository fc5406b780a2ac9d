package dev.mmlab.it.drivers;

import static dev.mmlab.api.Linux.MAP_FIXED;
import static dev.mmlab.api.Linux.MAP_SHARED;
import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PROT_READ;
import static dev.mmlab.api.Linux.PROT_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.mmlab.api.VmOps;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.drivers.DriverRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every shipped driver, mapped by name beside anonymous memory under every strategy: threads fault both
 * regions at once, write through shared driver mappings, one thread unmaps part of the driver region, and the
 * invariant checker finds nothing at the end.
 */
class ShippedDriversTest {
    static final long DRIVER = 0x20000000L;
    static final long ANON = 0x10000000L;
    static final int PAGES = 32;
    static final Map<String, Map<String, String>> PARAMS = Map.of(
            "slow-device", Map.of("latency", "50us"),
            "pagecache-file", Map.of("latency", "20us", "size", "256k"),
            "shmem", Map.of("size", "256k"),
            "legacy-fb", Map.of("size", "256k"));

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (StrategyCase s : StrategyCase.all()) {
            for (String driver : DriverRegistry.discover().names()) {
                out.add(Arguments.of(s, driver));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} + {1}")
    @MethodSource("cases")
    void driverBesideAnonMemory(StrategyCase s, String driver) {
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            VmOps ops = DriverRegistry.discover().create(driver, PARAMS.getOrDefault(driver, Map.of()));
            Mm mm = s.newMm();
            mm.mmapDriver(DRIVER, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, ops, 0);
            mm.mmapAnon(ANON, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
            Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                int id = t;
                threads.add(new Thread(() -> {
                    try {
                        for (int i = 0; i < PAGES / 2; i++) {
                            int p = id * (PAGES / 2) + i;
                            mm.write(DRIVER + p * PAGE_SIZE, 1000 + p);
                            mm.write(ANON + p * PAGE_SIZE, p);
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
            for (int p = 0; p < PAGES; p++) {
                assertThat(mm.read(DRIVER + p * PAGE_SIZE)).isEqualTo(1000 + p);
                assertThat(mm.read(ANON + p * PAGE_SIZE)).isEqualTo(p);
            }
            mm.munmap(DRIVER + 8 * PAGE_SIZE, 4 * PAGE_SIZE);
            assertThat(InvariantChecker.check(mm)).isEmpty();
            mm.exit();
            assertThat(InvariantChecker.check(mm)).isEmpty();
        });
    }
}
