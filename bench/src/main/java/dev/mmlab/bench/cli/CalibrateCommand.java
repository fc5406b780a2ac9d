package dev.mmlab.bench.cli;

import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.bench.OutputPaths;
import dev.mmlab.bench.UsageException;
import dev.mmlab.bench.calibrate.Calibration;
import dev.mmlab.bench.calibrate.KernelProbe;
import dev.mmlab.bench.calibrate.ModelProbe;
import dev.mmlab.bench.calibrate.ProfileWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mmlab calibrate}: measures what each step of the virtual clock costs on this machine and writes a
 * cost profile for {@code compare --clock virtual --profile FILE}. The output file is checked for being
 * writable before measuring and replaced only once the measurement succeeded.
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Measure this machine and write a cost profile for --clock virtual --profile FILE.",
            "kernel (default): small C programs in the jar, compiled with cc, time this kernel's faults, munmap, "
                + "mmap, /proc/self/maps, fork, cache-line transfers and futex wake-ups (THP off).",
            "model: the model's own steps in this JVM, timed on the wall clock and fitted to the steps the engine "
                + "counts, so that a virtual run predicts a wall-clock run on this machine.",
            "linux-x86 stays the default profile; a step not measured keeps its number, and says so."})
public final class CalibrateCommand implements Callable<Integer> {
    @Option(names = "--source", paramLabel = "kernel|model", defaultValue = "kernel",
            description = "what to measure: kernel (default; needs cc) or model")
    String source;

    @Option(names = "--out", paramLabel = "FILE",
            description = "the profile to write (default: calibrated-SOURCE.profile here)")
    Path out;

    @Option(names = "--name", paramLabel = "NAME",
            description = "the profile's name in its header (default: the file name without .profile, which is "
                    + "what --profile FILE calls it)")
    String name;

    @Option(names = "--quick", description = "smaller sizes and fewer repetitions: seconds, not a minute, and noisier")
    boolean quick;

    @Mixin
    DebugOption debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        if (!source.equals("kernel") && !source.equals("model")) {
            throw new UsageException("--source must be kernel or model, got '" + source + "'");
        }
        Path file = out != null ? out : Path.of("calibrated-" + source + ".profile");
        OutputPaths.checkFile("--out", file);
        String profileName = name != null ? name : file.getFileName().toString().replaceFirst("\\.profile$", "");
        Calibration calibration = source.equals("kernel") ? new KernelProbe(quick).measure() : new ModelProbe(quick).measure();
        CostProfile fallback = CostProfile.named(CostProfile.DEFAULT);
        String text = ProfileWriter.render(profileName, calibration, fallback, commandLine());
        CostProfile.parse(profileName, text, file.toString()); // a profile we cannot read back is a bug, caught here
        ProfileWriter.write(file, text);
        printTable(stdout, ProfileWriter.lines(calibration, fallback), fallback);
        stdout.println("wrote " + file);
        return MmlabCommand.OK;
    }

    private String commandLine() {
        // The original arguments are the whole command line's, this subcommand's name included.
        return "mmlab " + String.join(" ", spec.commandLine().getParseResult().originalArgs());
    }

    private static void printTable(PrintWriter out, List<ProfileWriter.Line> lines, CostProfile fallback) {
        int stepWidth = lines.stream().mapToInt(l -> l.step().name().length()).max().orElse(4);
        String format = "%-" + stepWidth + "s  %10s  %10s  %s%n";
        out.printf(format, "step", "ns", "linux-x86", "how measured");
        for (ProfileWriter.Line l : lines) {
            out.printf(format, l.step().name(), l.nanos(), fallback.nanos(l.step()), l.how());
        }
    }
}
