package com.example.naive;

import dev.mmlab.conformance.ConformanceSuite;
import java.util.Map;

/** The mmlab conformance kit against the example strategy, with its (empty) default options. */
class NaiveStrategyConformanceTest extends ConformanceSuite {
    NaiveStrategyConformanceTest() {
        super(new NaiveStrategy(), Map.of());
    }
}
