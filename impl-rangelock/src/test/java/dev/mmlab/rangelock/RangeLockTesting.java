package dev.mmlab.rangelock;

import dev.mmlab.api.mm.Mm;
import dev.mmlab.testing.TestMms;
import java.util.Map;

/** Address spaces under rangelock for the tests, with either range lock. */
final class RangeLockTesting {
    private RangeLockTesting() {}

    /** An address space under rangelock with range lock {@code impl} ("tree" or "list"). */
    static Mm newMm(String impl) {
        return TestMms.create(new RangeLockStrategy(), Map.of("impl", impl));
    }

    /** "tree", "list": the parameter source of the per-implementation tests. */
    static String[] impls() {
        return new String[] {"tree", "list"};
    }
}
