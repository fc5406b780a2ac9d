package dev.mmlab.it.docs;

import dev.mmlab.conformance.ConformanceSuite;
import dev.mmlab.conformance.StrategyUnderTest;
import dev.mmlab.conformance.StrategyUnderTest.Granularity;
import dev.mmlab.rangelock.RangeLockStrategy;
import java.util.List;
import java.util.Map;

/**
 * integration-tests/CONFORMANCE.md's example of a kit run over several configurations, compiled so that it
 * cannot rot. Excluded from the test run (pom.xml): AllStrategiesConformanceTest already covers rangelock.
 */
// tag::configurations[]
class RangeLockConformanceTest extends ConformanceSuite {
    RangeLockConformanceTest() {
        super(List.of(
                StrategyUnderTest.of(new RangeLockStrategy(), Map.of(), Granularity.ALL),
                StrategyUnderTest.of(new RangeLockStrategy(), Map.of("impl", "list"), Granularity.ALL)));
    }
}
// end::configurations[]
