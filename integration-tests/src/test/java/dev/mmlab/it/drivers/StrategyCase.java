package dev.mmlab.it.drivers;

import dev.mmlab.api.mm.Mm;
import dev.mmlab.conformance.StrategyUnderTest;
import dev.mmlab.conformance.StrategyUnderTest.Granularity;
import dev.mmlab.testing.TestMms;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A strategy the driver tests run under: every discovered strategy variant as the conformance kit runs it
 * ({@link StrategyUnderTest#discoverAllVariants()}, with the kit's knowledge of each design's granularity),
 * plus {@link FineRangeTestStrategy}, so the fine-grained expectations are exercised even where no
 * fine-grained strategy is on the class path yet.
 */
record StrategyCase(StrategyUnderTest sut) {
    static List<StrategyCase> all() {
        List<StrategyCase> out = new ArrayList<>();
        for (StrategyUnderTest s : StrategyUnderTest.discoverAllVariants()) {
            out.add(new StrategyCase(s));
        }
        out.add(new StrategyCase(StrategyUnderTest.of(new FineRangeTestStrategy(), Map.of(), Granularity.ALL)));
        return out;
    }

    String name() {
        return sut.name();
    }

    /** Whether faults promise never to wait for disjoint work (they do not take the whole-space lock). */
    boolean fineFaults() {
        return sut.granularity() != Granularity.COARSE;
    }

    /**
     * The baseline: every fault holds the mmap read lock, and a queued writer blocks new readers ("any
     * down_write essentially turns it into a mutex").
     */
    boolean isRwsem() {
        return "rwsem".equals(name());
    }

    boolean isTestStrategy() {
        return FineRangeTestStrategy.NAME.equals(name());
    }

    /** A new address space with checking on (lock assertions enforced). */
    Mm newMm() {
        return TestMms.create(sut.selected());
    }

    @Override
    public String toString() {
        return sut.label();
    }
}
