package dev.mmlab.it;

import dev.mmlab.conformance.ConformanceSuite;
import dev.mmlab.conformance.StrategyUnderTest;

/**
 * The conformance kit over every strategy on the class path, with its defaults and with each option value
 * that changes behaviour (rwsem:faultRetry=false, pervma:lock=rwsem, speculative:validation=mm, ...): new
 * strategy modules are picked up by discovery, with no change here.
 */
class AllStrategiesConformanceTest extends ConformanceSuite {
    AllStrategiesConformanceTest() {
        super(StrategyUnderTest.discoverAllVariants());
    }
}
