package dev.mmlab.api;

import dev.mmlab.api.stats.Counters;
import dev.mmlab.api.stats.LockWaitRecorder;

/** What the engine gives a strategy for one address space: where to count and where to record waits. */
public interface MmContext {
    Counters counters();

    LockWaitRecorder waits();

    /** Whether lock assertions are checked (tests: on). */
    boolean checking();
}
