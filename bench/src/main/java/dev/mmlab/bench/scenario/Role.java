package dev.mmlab.bench.scenario;

import java.util.Objects;

/**
 * A group of threads doing the same thing in a scenario; its name prefixes its operations in results
 * ({@code faulters/fault}) and labels its lock waits ({@link dev.mmlab.api.stats.LockWaitRecorder#labelTasks}).
 *
 * @param name the role name (part of the JSON contract)
 * @param threads how many threads run it
 * @param factory makes each thread's worker, on the runner's thread, before the run starts (mappings a worker
 *        needs are made there, outside the measurement)
 */
public record Role(String name, int threads, WorkerFactory factory) {
    /** Makes the worker of one thread of a role. */
    @FunctionalInterface
    public interface WorkerFactory {
        /** The worker of thread {@code index} (0-based) of the role; may map regions in the scenario's mm. */
        Worker create(int index);
    }

    public Role {
        Objects.requireNonNull(name);
        Objects.requireNonNull(factory);
        if (threads < 0) {
            throw new IllegalArgumentException("negative thread count for role " + name);
        }
    }
}
