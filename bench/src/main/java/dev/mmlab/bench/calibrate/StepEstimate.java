package dev.mmlab.bench.calibrate;

import dev.mmlab.api.sync.Cost;

/**
 * What a calibration found one step to cost: nanoseconds and how they were found. A step it could not
 * measure has no estimate at all; the profile then keeps the default profile's number and says so.
 *
 * @param step the step
 * @param nanos nanoseconds per step; may be negative when a difference of two measurements came out so (the
 *     profile writer does not write it as it is)
 * @param how what was measured and how often, for the profile line's comment
 */
public record StepEstimate(Cost step, double nanos, String how) {}
