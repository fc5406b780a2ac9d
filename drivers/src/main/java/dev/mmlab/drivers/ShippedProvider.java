package dev.mmlab.drivers;

import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsProvider;
import java.util.Map;

/** The provider of a shipped driver: its name, its description, and its parameters with their defaults. */
abstract class ShippedProvider implements VmOpsProvider {
    private final String name;
    private final String description;
    private final Map<String, String> defaults;

    ShippedProvider(String name, String description, Map<String, String> defaults) {
        this.name = name;
        this.description = description;
        this.defaults = defaults;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String description() {
        return description;
    }

    /** {@inheritDoc} Checks {@code parameters} against the defaults' keys, then makes the driver. */
    @Override
    public final VmOps create(Map<String, String> parameters) {
        return create(DriverParams.of(name, defaults, parameters));
    }

    /** The driver for validated parameters (defaults filled in). */
    abstract VmOps create(DriverParams params);
}
