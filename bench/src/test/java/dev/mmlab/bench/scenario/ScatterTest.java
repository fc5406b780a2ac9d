package dev.mmlab.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScatterTest {
    @Test
    void everyPassVisitsEachIndexOnce() {
        for (long n : new long[] {1, 2, 7919 * 2, 16384, 1000}) {
            Workloads.Scatter s = new Workloads.Scatter(n, 0);
            Set<Long> seen = new HashSet<>();
            for (long i = 0; i < n; i++) {
                long v = s.next();
                assertThat(v).isBetween(0L, n - 1);
                assertThat(seen.add(v)).as("n=%d repeats %d", n, v).isTrue();
                assertThat(s.wrapped()).isEqualTo(i == n - 1);
            }
        }
    }
}
