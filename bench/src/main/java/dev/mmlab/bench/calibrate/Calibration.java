package dev.mmlab.bench.calibrate;

import dev.mmlab.api.sync.Cost;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of one probe: an estimate for each step it measured, and notes for the profile's header (what
 * it could not do, how well a fit fits).
 *
 * @param source which probe: {@code kernel} or {@code model}
 * @param steps the steps measured; a step missing here was not measured
 * @param notes lines for the header, without the leading '#'
 */
public record Calibration(String source, Map<Cost, StepEstimate> steps, List<String> notes) {
    public Calibration {
        Map<Cost, StepEstimate> copy = new EnumMap<>(Cost.class);
        copy.putAll(steps);
        steps = Collections.unmodifiableMap(copy);
        notes = List.copyOf(notes);
    }

    /** Whether {@code step} was measured. */
    public boolean measured(Cost step) {
        return steps.containsKey(step);
    }
}
