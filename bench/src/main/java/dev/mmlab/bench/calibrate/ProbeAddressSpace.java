package dev.mmlab.bench.calibrate;

import dev.mmlab.api.Strategies;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.bench.UsageException;

/**
 * The address space a probe runs the engine in: rwsem (the kernel's own scheme, one lock), self-checks off, as
 * {@code compare} measures. Single-threaded, so the strategy's choice hardly shows in a step's cost.
 */
final class ProbeAddressSpace {
    static final String STRATEGY = "rwsem";

    private ProbeAddressSpace() {}

    /** A new, empty address space. */
    static Mm create() {
        Strategies.Selected rwsem;
        try {
            rwsem = Strategies.discover().select(STRATEGY);
        } catch (IllegalArgumentException e) {
            throw new UsageException("the model probe needs the " + STRATEGY + " strategy on the class path: " + e.getMessage(), e);
        }
        return Mm.create(rwsem, MmConfig.defaults().withChecking(false));
    }
}
