package dev.mmlab.api;

import java.util.Map;

/**
 * A {@link java.util.ServiceLoader} provider of one driver kind, mapped by {@link #name()}. Cheap
 * no-argument constructor; the driver itself is made by {@link #create}.
 */
public interface VmOpsProvider {
    /** A stable name, used in scenario files ({@code driver: NAME}). */
    String name();

    /** One line: what the driver models and which lock its callbacks declare. */
    String description();

    /**
     * A driver instance configured by {@code parameters}.
     *
     * @throws IllegalArgumentException for an unknown parameter or bad value, naming the valid ones
     */
    VmOps create(Map<String, String> parameters);
}
