package com.example.hello;

import static dev.mmlab.api.Linux.MAP_SHARED;
import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PROT_READ;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.drivers.DriverRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The example driver found by name and mapped under the rwsem baseline, with lock assertions checked. */
class HelloDriverTest {
    private final DriverRegistry drivers = DriverRegistry.discover();

    private static Mm newMm() {
        return Mm.create(Strategies.discover().select("rwsem"), MmConfig.defaults().withChecking(true));
    }

    @Test
    void isFoundBesideTheShippedDrivers() {
        assertThat(drivers.names()).contains("hello", "legacy-fb", "shmem");
    }

    @Test
    void pagesReadAsTheGreetingAndCloseRunsUnderTheWriteLock() {
        // tag::registry[]
        HelloDriver hello = (HelloDriver) drivers.create("hello", Map.of("greeting", "1000"));
        Mm mm = newMm();
        long a = mm.mmapDriver(0, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED, hello, 2 * PAGE_SIZE);
        assertThat(mm.read(a)).isEqualTo(1002);
        // end::registry[]
        assertThat(mm.read(a + 3 * PAGE_SIZE)).isEqualTo(1005);
        assertThat(mm.procMaps()).contains("hello");
        mm.munmap(a, 4 * PAGE_SIZE);
        assertThat(hello.closeCount()).isEqualTo(1);
        assertThat(mm.counters().get("driver.hello.assert_failed")).isZero();
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.allocator().livePages()).isEmpty();
    }

    @Test
    void refusesAMappingPastTheDevice() {
        Mm mm = newMm();
        assertThatThrownBy(() -> mm.mmapDriver(0, 32 * PAGE_SIZE, PROT_READ, MAP_SHARED, drivers.create("hello", Map.of()), 0))
                .isInstanceOf(ErrnoException.class).hasMessageContaining("16 pages");
        assertThat(mm.tree().size()).isZero();
    }

    @Test
    void unknownParametersNameTheValidOnes() {
        assertThatThrownBy(() -> drivers.create("hello", Map.of("colour", "red")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("greeting, pages");
    }
}
