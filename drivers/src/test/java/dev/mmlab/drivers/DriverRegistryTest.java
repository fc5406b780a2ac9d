package dev.mmlab.drivers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsProvider;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.ServiceConfigurationError;
import org.junit.jupiter.api.Test;

class DriverRegistryTest {
    @Test
    void discoversTheDriversWeShip() {
        DriverRegistry registry = DriverRegistry.discover();
        assertThat(registry.names()).containsExactly("legacy-fb", "pagecache-file", "shmem", "slow-device");
        assertThat(registry.describe().values()).allSatisfy(d -> assertThat(d).isNotBlank());
        for (String name : registry.names()) {
            VmOps ops = registry.create(name, Map.of());
            assertThat(ops.name()).isEqualTo(name);
        }
    }

    @Test
    void unknownDriverNamesTheOnesThatExist() {
        assertThatThrownBy(() -> DriverRegistry.discover().get("nvidia"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nvidia").hasMessageContaining("legacy-fb").hasMessageContaining("shmem");
    }

    @Test
    void unknownParameterListsTheValidKeys() {
        DriverRegistry registry = DriverRegistry.discover();
        assertThatThrownBy(() -> registry.create("slow-device", Map.of("latncy", "1ms")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("slow-device").hasMessageContaining("latncy")
                .hasMessageContaining("errorRate, latency, seed, size");
        assertThatThrownBy(() -> registry.create("legacy-fb:colour=blue"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("valid: size");
    }

    @Test
    void badValuesAreRejectedWithTheExpectedForm() {
        DriverRegistry registry = DriverRegistry.discover();
        assertThatThrownBy(() -> registry.create("shmem", Map.of("size", "12345")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of the page size");
        assertThatThrownBy(() -> registry.create("shmem", Map.of("size", "lots")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("16m");
        assertThatThrownBy(() -> registry.create("slow-device", Map.of("errorRate", "2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[0, 1]");
        assertThatThrownBy(() -> registry.create("pagecache-file", Map.of("latency", "soon")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("latency");
        assertThat(registry.create("slow-device:latency=uniform:1ms..2ms,size=64k").name()).isEqualTo("slow-device");
    }

    @Test
    void duplicateNamesAreAnErrorNamingBothClasses() {
        VmOpsProvider a = new SharedMemoryDriver.Provider();
        VmOpsProvider b = new VmOpsProvider() {
            @Override
            public String name() {
                return "shmem";
            }

            @Override
            public String description() {
                return "impostor";
            }

            @Override
            public VmOps create(Map<String, String> parameters) {
                throw new UnsupportedOperationException();
            }
        };
        assertThatThrownBy(() -> DriverRegistry.of(List.of(a, b)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(SharedMemoryDriver.Provider.class.getName())
                .hasMessageContaining(b.getClass().getName());
    }

    @Test
    void aBrokenProviderIsSkippedAndTheOthersLoad() {
        VmOpsProvider good = new LegacyFramebufferDriver.Provider();
        Iterator<VmOpsProvider> it = new Iterator<>() {
            int i;

            @Override
            public boolean hasNext() {
                return i < 3;
            }

            @Override
            public VmOpsProvider next() {
                if (i >= 3) {
                    throw new NoSuchElementException();
                }
                if (i++ == 1) {
                    throw new ServiceConfigurationError("com.example.Broken: Provider could not be instantiated");
                }
                return good;
            }
        };
        List<VmOpsProvider> found = DriverRegistry.load(it);
        assertThat(found).containsExactly(good, good);
    }
}
