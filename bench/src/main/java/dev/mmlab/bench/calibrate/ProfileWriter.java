package dev.mmlab.bench.calibrate;

import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.api.sync.Cost;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a {@link Calibration} as a cost profile file ({@link CostProfile#parse} reads it): a header that says
 * where, when and how it was measured, then every step once, {@code STEP = NANOS   # how}.
 *
 * <p>A profile holds whole, non-negative nanoseconds. A step measured below zero (a difference of two noisy
 * timings) or not measured keeps the default profile's number, and its comment says so and gives that
 * number's source; a positive step under half a nanosecond is written as 1 so that it still costs something.
 */
public final class ProfileWriter {
    private ProfileWriter() {}

    /** One line of the profile, as written: the number and its comment. */
    public record Line(Cost step, long nanos, String how, boolean measured) {}

    /** The profile's step lines: {@code calibration}'s numbers, {@code fallback}'s where it has none. */
    public static List<Line> lines(Calibration calibration, CostProfile fallback) {
        List<Line> out = new ArrayList<>();
        for (Cost step : Cost.values()) {
            StepEstimate e = calibration.steps().get(step);
            String fallbackNote = "linux-x86's value (" + fallback.source(step) + ")";
            if (e == null || Double.isNaN(e.nanos())) {
                out.add(new Line(step, fallback.nanos(step), "not measured here: " + fallbackNote, false));
            } else if (e.nanos() < 0) {
                out.add(new Line(step, fallback.nanos(step), String.format("not measured here (came out at %.1f ns, "
                        + "below zero: %s): %s", e.nanos(), e.how(), fallbackNote), false));
            } else if (e.nanos() > 0 && e.nanos() < 0.5) {
                out.add(new Line(step, 1, String.format("%s (%.2f ns, rounded up to 1 ns, the profile's unit)",
                        e.how(), e.nanos()), true));
            } else {
                out.add(new Line(step, Math.round(e.nanos()), e.how(), true));
            }
        }
        return out;
    }

    /** The profile's text. {@code commandLine} is how it was made, for the header. */
    public static String render(String name, Calibration calibration, CostProfile fallback, String commandLine) {
        StringBuilder sb = new StringBuilder();
        sb.append("# mmlab cost profile: ").append(name).append('\n');
        sb.append("# Measured by mmlab calibrate --source ").append(calibration.source()).append(" on ")
                .append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)).append('\n');
        sb.append("# command: ").append(commandLine).append('\n');
        sb.append("# kernel: ").append(MachineFacts.kernelRelease()).append('\n');
        sb.append("# cpu: ").append(MachineFacts.cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" CPUs available\n");
        sb.append("# java: ").append(MachineFacts.javaVersion()).append('\n');
        for (String note : calibration.notes()) {
            sb.append("# ").append(note).append('\n');
        }
        sb.append('\n');
        List<Line> lines = lines(calibration, fallback);
        int width = lines.stream().mapToInt(l -> (l.step().name() + " = " + l.nanos()).length()).max().orElse(0);
        for (Line l : lines) {
            String body = l.step().name() + " = " + l.nanos();
            sb.append(body).append(" ".repeat(width - body.length() + 3)).append("# ").append(l.how()).append('\n');
        }
        return sb.toString();
    }

    /**
     * Writes {@code text} to {@code file}: to a temporary file beside it first, then moved over it, so that a
     * reader never sees half a profile and a failure leaves the old file as it was.
     */
    public static void write(Path file, String text) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
