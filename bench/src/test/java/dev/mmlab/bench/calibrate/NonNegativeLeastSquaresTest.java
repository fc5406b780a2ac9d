package dev.mmlab.bench.calibrate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class NonNegativeLeastSquaresTest {
    @Test
    void recoversTheExactSolutionOfAConsistentSystem() {
        // Counts of very different sizes, as the model probe's are: millions of one step, a few of another.
        double[][] a = {
            {4096, 8, 1},
            {0, 2, 2},
            {8192, 16, 3},
            {100, 0, 5000},
            {1, 1, 1},
        };
        double[] x = {350.0, 120.0, 40.0};
        double[] b = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < x.length; j++) {
                b[i] += a[i][j] * x[j];
            }
        }
        double[] got = NonNegativeLeastSquares.solve(a, b);
        for (int j = 0; j < x.length; j++) {
            assertThat(got[j]).isCloseTo(x[j], within(1e-6 * x[j]));
        }
    }

    @Test
    void aStepTheUnconstrainedFitMakesNegativeIsClampedAtZero() {
        // Unconstrained: x = (1, -1) fits exactly on the first two rows; the constrained optimum drops x2 and
        // fits column 1 alone: x1 = (1 + 0) / 2.
        double[][] a = {{1, 0}, {0, 1}, {1, 1}};
        double[] b = {1, -1, 0};
        double[] got = NonNegativeLeastSquares.solve(a, b);
        assertThat(got[1]).isZero();
        assertThat(got[0]).isCloseTo(0.5, within(1e-9));
    }

    @Test
    void aColumnNoRowUsesGetsZero() {
        double[][] a = {{2, 0}, {4, 0}};
        double[] b = {6, 12};
        double[] got = NonNegativeLeastSquares.solve(a, b);
        assertThat(got[0]).isCloseTo(3, within(1e-9));
        assertThat(got[1]).isZero();
    }
}
