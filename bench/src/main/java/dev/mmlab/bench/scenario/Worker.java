package dev.mmlab.bench.scenario;

/** One thread's loop body in a scenario role. Runs on its own thread; never shared. */
@FunctionalInterface
public interface Worker {
    /**
     * One step of the loop (an operation or a few), timing what it does with {@code rec}. May block on the mm's
     * locks or sleep on a device. A step that loops internally should return soon after
     * {@link OpRecorder#stopping()} turns true.
     */
    void step(OpRecorder rec);
}
