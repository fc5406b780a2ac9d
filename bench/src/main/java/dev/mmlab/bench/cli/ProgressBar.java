package dev.mmlab.bench.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on the terminal's stderr, redrawn in place; silent when no terminal is attached or
 * {@code CI} is set, so pipes and logs stay clean. Used from the runner's thread only.
 */
final class ProgressBar {
    private static final int WIDTH = 30;

    private final PrintStream out;
    private final boolean enabled;
    private final int total;
    private int done;
    private String label = "";
    private int lastDrawn = -1;

    ProgressBar(int totalRuns) {
        this(totalRuns, System.err, System.console() != null && System.getenv("CI") == null);
    }

    ProgressBar(int totalRuns, PrintStream out, boolean enabled) {
        this.total = Math.max(1, totalRuns);
        this.out = out;
        this.enabled = enabled;
    }

    /** A run named {@code what} begins. */
    void begin(String what) {
        label = what;
        lastDrawn = -1;
        update(0);
    }

    /** The current run is {@code fraction} done. */
    void update(double fraction) {
        if (!enabled) {
            return;
        }
        int permille = (int) (1000 * (done + Math.min(1, fraction)) / total);
        if (permille == lastDrawn) {
            return;
        }
        lastDrawn = permille;
        int filled = permille * WIDTH / 1000;
        out.print(String.format(Locale.ROOT, "\r[%s%s] %3d%% %-50.50s", "#".repeat(filled), " ".repeat(WIDTH - filled),
                permille / 10, label));
        out.flush();
    }

    /** The current run ended. */
    void end() {
        done++;
    }

    /** Clears the line before normal output. */
    void clear() {
        if (enabled) {
            out.print("\r" + " ".repeat(WIDTH + 60) + "\r");
            out.flush();
        }
    }
}
