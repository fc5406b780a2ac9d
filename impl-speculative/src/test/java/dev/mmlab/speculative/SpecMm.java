package dev.mmlab.speculative;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.testing.TestMms;
import java.util.HashMap;
import java.util.Map;

/** Test helpers: address spaces under the speculative strategy, and their counters. */
final class SpecMm {
    private SpecMm() {}

    static Mm newMm(String validation) {
        return newMm(validation, Map.of());
    }

    static Mm newMm(String validation, Map<String, String> options) {
        Map<String, String> given = new HashMap<>(options);
        given.put("validation", validation);
        return TestMms.create(new SpeculativeStrategy(), given);
    }

    static SpeculativeStrategy.Instance parts(Mm mm) {
        return (SpeculativeStrategy.Instance) mm.parts();
    }

    static void probe(Mm mm, SpeculativeFaultHandler.Probe probe) {
        parts(mm).speculativeFaults().setProbe(probe);
    }

    static long count(Mm mm, String counter) {
        return mm.counters().get(counter);
    }

    static long aborts(Mm mm, AbortReason reason) {
        return mm.counters().get(reason.counter());
    }

    static void assertValid(Mm mm) {
        assertThat(InvariantChecker.check(mm)).as("invariant violations in %s", mm).isEmpty();
    }
}
