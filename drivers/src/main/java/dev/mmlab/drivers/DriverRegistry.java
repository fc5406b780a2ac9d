package dev.mmlab.drivers;

import dev.mmlab.api.ServiceProviders;
import dev.mmlab.api.StrategySpec;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsProvider;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * The drivers visible through {@link ServiceLoader}{@code <}{@link VmOpsProvider}{@code >}, by name. Discovery
 * follows SLF4J 2: a provider that fails to load is logged and skipped and the others still load; two
 * providers with one name are an error naming both classes. Immutable once built; thread-safe.
 */
public final class DriverRegistry {

    private final Map<String, VmOpsProvider> byName;

    private DriverRegistry(Map<String, VmOpsProvider> byName) {
        this.byName = Collections.unmodifiableMap(byName);
    }

    /** Every provider visible to {@code loader}, by name. */
    public static DriverRegistry discover(ClassLoader loader) {
        return of(load(ServiceLoader.load(VmOpsProvider.class, loader).iterator()));
    }

    /** Every provider on the class path of this class. */
    public static DriverRegistry discover() {
        return discover(DriverRegistry.class.getClassLoader());
    }

    /**
     * The given providers.
     *
     * @throws IllegalStateException when two share a name, naming both classes
     */
    public static DriverRegistry of(List<VmOpsProvider> providers) {
        return new DriverRegistry(ServiceProviders.byName(providers, VmOpsProvider::name, "drivers"));
    }

    static List<VmOpsProvider> load(Iterator<VmOpsProvider> it) {
        return ServiceProviders.load(it, "VmOpsProvider");
    }

    /** Every provider, sorted by name. */
    public List<VmOpsProvider> all() {
        return List.copyOf(byName.values());
    }

    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    /**
     * The provider named {@code name}.
     *
     * @throws IllegalArgumentException naming the drivers that exist
     */
    public VmOpsProvider get(String name) {
        VmOpsProvider p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no driver named '" + name + "'; found: " + String.join(", ", names()));
        }
        return p;
    }

    /**
     * A new driver instance.
     *
     * @throws IllegalArgumentException for an unknown driver or parameter (naming the valid ones) or a bad value
     */
    public VmOps create(String name, Map<String, String> parameters) {
        return get(name).create(parameters);
    }

    /** A new driver instance from {@code NAME} or {@code NAME:key=value,key=value} (as a scenario's {@code driver=}). */
    public VmOps create(String spec) {
        StrategySpec parsed = StrategySpec.parse(spec);
        return create(parsed.name(), parsed.options());
    }

    /** Names with descriptions, for listings. */
    public Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        byName.forEach((n, p) -> out.put(n, p.description()));
        return out;
    }
}
