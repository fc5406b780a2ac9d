package dev.mmlab.bench.scenario;

import dev.mmlab.api.ServiceProviders;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsProvider;
import dev.mmlab.bench.UsageException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The drivers ({@link VmOpsProvider}s) on the class path, found through {@link ServiceLoader}; a provider that
 * fails to load is logged and skipped, as strategies are.
 */
// LEAD: switch to dev.mmlab.drivers.DriverRegistry.discover() once mmlab-drivers is installed with it.
public final class Drivers {
    private static final Logger LOG = LoggerFactory.getLogger(Drivers.class);

    private final Map<String, VmOpsProvider> byName;

    private Drivers(Map<String, VmOpsProvider> byName) {
        this.byName = byName;
    }

    /**
     * Every provider visible to this thread's context class loader (the class path and any plugin jars), sorted
     * by name.
     */
    public static Drivers discover() {
        Map<String, VmOpsProvider> byName = new TreeMap<>();
        Iterator<VmOpsProvider> it = ServiceLoader.load(VmOpsProvider.class, ServiceProviders.contextLoader()).iterator();
        while (true) {
            try {
                if (!it.hasNext()) {
                    break;
                }
                VmOpsProvider p = it.next();
                VmOpsProvider other = byName.putIfAbsent(p.name(), p);
                if (other != null) {
                    LOG.error("two drivers are named '{}': {} and {}; keeping the first", p.name(),
                            other.getClass().getName(), p.getClass().getName());
                }
            } catch (ServiceConfigurationError e) {
                LOG.error("A VmOpsProvider failed to load and is skipped: {}{}", e.getMessage(),
                        e.getCause() == null ? "" : ": " + e.getCause());
                LOG.debug("the provider's failure", e);
            }
        }
        return new Drivers(byName);
    }

    public List<VmOpsProvider> all() {
        return new ArrayList<>(byName.values());
    }

    /**
     * A driver instance of provider {@code name} with default parameters.
     *
     * @throws UsageException when no driver has that name, listing those that exist
     */
    public VmOps create(String name) {
        VmOpsProvider p = byName.get(name);
        if (p == null) {
            throw new UsageException("no driver named '" + name + "'; available: "
                    + (byName.isEmpty() ? "none (add mmlab-drivers to the class path)" : String.join(", ", byName.keySet()))
                    + "; see 'mmlab list'");
        }
        try {
            return p.create(Map.of());
        } catch (IllegalArgumentException e) {
            throw new UsageException("driver " + name + ": " + e.getMessage(), e);
        }
    }
}
