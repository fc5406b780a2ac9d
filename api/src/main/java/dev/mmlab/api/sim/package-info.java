/**
 * The virtual clock: {@link dev.mmlab.api.sim.VirtualScheduler} runs the engine and the strategies' own code
 * on simulated threads, one at a time, in virtual time priced by a {@link dev.mmlab.api.sim.CostProfile},
 * so that a comparison predicts many cores deterministically on any machine.
 */
package dev.mmlab.api.sim;
