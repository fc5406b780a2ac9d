package dev.mmlab.api;

import java.util.List;

/**
 * An mm locking design, found through {@link java.util.ServiceLoader} (declare the implementation in
 * {@code META-INF/services/dev.mmlab.api.LockingStrategy}). Providers have a cheap no-argument constructor
 * and a stable {@link #name()}; the work happens in {@link #create}, once per address space.
 */
public interface LockingStrategy {
    /** A short stable name such as {@code rwsem}: how users select it ({@code --strategy rwsem:key=value}). */
    String name();

    /** One line: what design this is and where it comes from. */
    String description();

    /** The options {@link #create} accepts. Default: none. */
    default List<StrategyOption> options() {
        return List.of();
    }

    /**
     * The parts for one new address space. {@code config} is already validated against {@link #options()}.
     * Thread-safe; does not block.
     */
    StrategyInstance create(StrategyConfig config, MmContext context);
}
