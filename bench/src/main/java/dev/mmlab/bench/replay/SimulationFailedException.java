package dev.mmlab.bench.replay;

import dev.mmlab.api.sim.SimulationException;

/**
 * A virtual-time replay could not finish under a strategy: a replay thread threw, every simulated thread was
 * parked with none left to wake another, or a thread blocked outside the {@link dev.mmlab.api.sync.Sched} seam.
 * The {@link SimulationException}, with the stack of the thread concerned, is the cause.
 */
public final class SimulationFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String strategy;

    public SimulationFailedException(String strategy, SimulationException cause) {
        super("the simulation under " + strategy + " failed: " + cause.getMessage(), cause);
        this.strategy = strategy;
    }

    /** The strategy spec the replay ran under. */
    public String strategy() {
        return strategy;
    }
}
