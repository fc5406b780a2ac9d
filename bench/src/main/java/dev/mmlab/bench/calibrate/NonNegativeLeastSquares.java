package dev.mmlab.bench.calibrate;

import java.util.ArrayList;
import java.util.List;

/**
 * Solves {@code min ||A x - b||} subject to {@code x >= 0}: Lawson and Hanson's active-set method ("Solving
 * Least Squares Problems", 1974, chapter 23). A step's cost cannot be negative, and an unconstrained fit
 * happily makes one step negative to pay for another's noise.
 *
 * <p>Columns are scaled to unit length first (step counts differ by orders of magnitude: millions of reads,
 * a handful of syscalls), and the unconstrained solves on the passive set use the normal equations with a
 * tiny ridge, so that two steps that always occur together (collinear columns) still give an answer.
 */
public final class NonNegativeLeastSquares {
    private static final double TOLERANCE = 1e-12;
    private static final double RIDGE = 1e-12;

    private NonNegativeLeastSquares() {}

    /**
     * The non-negative {@code x} that minimises {@code ||A x - b||}. {@code a} is row-major, {@code m} rows of
     * {@code n}; a column of zeros gets 0.
     */
    public static double[] solve(double[][] a, double[] b) {
        int m = a.length;
        int n = m == 0 ? 0 : a[0].length;
        if (b.length != m) {
            throw new IllegalArgumentException(m + " rows but " + b.length + " right-hand sides");
        }
        double[] norm = new double[n];
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (double[] row : a) {
                s += row[j] * row[j];
            }
            norm[j] = Math.sqrt(s);
        }
        double[][] scaled = new double[m][n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                scaled[i][j] = norm[j] == 0 ? 0 : a[i][j] / norm[j];
            }
        }
        double[] x = activeSet(scaled, b);
        for (int j = 0; j < n; j++) {
            x[j] = norm[j] == 0 ? 0 : x[j] / norm[j];
        }
        return x;
    }

    private static double[] activeSet(double[][] a, double[] b) {
        int n = a.length == 0 ? 0 : a[0].length;
        double[] x = new double[n];
        boolean[] passive = new boolean[n];
        double scale = Math.max(1e-300, norm(b));
        for (int outer = 0; outer < 3 * n + 3; outer++) {
            double[] w = gradient(a, b, x);
            int best = -1;
            for (int j = 0; j < n; j++) {
                if (!passive[j] && w[j] > TOLERANCE * scale && (best < 0 || w[j] > w[best])) {
                    best = j;
                }
            }
            if (best < 0) {
                break;
            }
            passive[best] = true;
            while (true) {
                double[] s = solvePassive(a, b, passive);
                boolean feasible = true;
                for (int j = 0; j < n; j++) {
                    if (passive[j] && s[j] <= 0) {
                        feasible = false;
                        break;
                    }
                }
                if (feasible) {
                    x = s;
                    break;
                }
                // Step from x towards s as far as stays feasible, and drop the variables that hit zero.
                double alpha = 1;
                for (int j = 0; j < n; j++) {
                    if (passive[j] && s[j] <= 0) {
                        alpha = Math.min(alpha, x[j] / (x[j] - s[j]));
                    }
                }
                boolean dropped = false;
                for (int j = 0; j < n; j++) {
                    x[j] += alpha * (s[j] - x[j]);
                    if (passive[j] && x[j] <= TOLERANCE) {
                        passive[j] = false;
                        x[j] = 0;
                        dropped = true;
                    }
                }
                if (!dropped) {
                    break; // rounding kept every variable above zero: take the point reached
                }
            }
        }
        return x;
    }

    /** {@code A^T (b - A x)}: how much each variable would lower the residual. */
    private static double[] gradient(double[][] a, double[] b, double[] x) {
        int n = x.length;
        double[] w = new double[n];
        for (int i = 0; i < a.length; i++) {
            double r = b[i];
            for (int j = 0; j < n; j++) {
                r -= a[i][j] * x[j];
            }
            for (int j = 0; j < n; j++) {
                w[j] += a[i][j] * r;
            }
        }
        return w;
    }

    /** The unconstrained least-squares solution on the passive columns; 0 elsewhere. */
    private static double[] solvePassive(double[][] a, double[] b, boolean[] passive) {
        List<Integer> cols = new ArrayList<>();
        for (int j = 0; j < passive.length; j++) {
            if (passive[j]) {
                cols.add(j);
            }
        }
        int k = cols.size();
        double[][] ata = new double[k][k + 1];
        for (int p = 0; p < k; p++) {
            for (int q = 0; q < k; q++) {
                double s = 0;
                for (double[] row : a) {
                    s += row[cols.get(p)] * row[cols.get(q)];
                }
                ata[p][q] = s + (p == q ? RIDGE : 0);
            }
            double s = 0;
            for (int i = 0; i < a.length; i++) {
                s += a[i][cols.get(p)] * b[i];
            }
            ata[p][k] = s;
        }
        double[] y = gaussianElimination(ata);
        double[] out = new double[passive.length];
        for (int p = 0; p < k; p++) {
            out[cols.get(p)] = y[p];
        }
        return out;
    }

    /** Solves the augmented system {@code m} (k rows, k + 1 columns) with partial pivoting. */
    private static double[] gaussianElimination(double[][] m) {
        int k = m.length;
        for (int c = 0; c < k; c++) {
            int pivot = c;
            for (int r = c + 1; r < k; r++) {
                if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) {
                    pivot = r;
                }
            }
            double[] t = m[c];
            m[c] = m[pivot];
            m[pivot] = t;
            for (int r = c + 1; r < k; r++) {
                double f = m[r][c] / m[c][c];
                for (int q = c; q <= k; q++) {
                    m[r][q] -= f * m[c][q];
                }
            }
        }
        double[] y = new double[k];
        for (int r = k - 1; r >= 0; r--) {
            double s = m[r][k];
            for (int q = r + 1; q < k; q++) {
                s -= m[r][q] * y[q];
            }
            y[r] = s / m[r][r];
        }
        return y;
    }

    private static double norm(double[] v) {
        double s = 0;
        for (double d : v) {
            s += d * d;
        }
        return Math.sqrt(s);
    }
}
