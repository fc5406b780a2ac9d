package dev.mmlab.bench.replay;

import dev.mmlab.api.Strategies;
import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.bench.OutputPaths;
import dev.mmlab.bench.UsageException;
import dev.mmlab.bench.trace.Trace;
import dev.mmlab.bench.trace.TraceFormatException;
import dev.mmlab.bench.trace.TraceParser;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mmlab replay TRACE [--strategy SPEC]... [--pid P] [--timing serial|asap|original] [--speed X]
 * [--clock wall|virtual [--profile NAME|FILE] [--seed S]] [--maps-out FILE] [--json FILE] [--lenient]}: replays a
 * recorded trace under one or more strategies, on this machine's threads or (virtual clock) on simulated cores
 * in virtual time.
 *
 * <p>Exit codes: 0 replayed (fidelity differences are reported, not an error); 2 bad options, unreadable or
 * malformed trace (one line: {@code FILE:LINE: what is wrong}); 1 an unexpected failure, or a virtual-time
 * replay whose simulation failed (one line per strategy that failed; the others are reported).
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Replay a perf trace of a program's address-space activity on the model, under each strategy.",
                "Record one with 'mmlab record -o FILE -- CMD ARGS...'."})
public final class ReplayCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(ReplayCommand.class);

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TRACE", description = "perf script output, plain or gzip")
    Path trace;

    @Option(names = "--strategy", paramLabel = "SPEC",
            description = "strategy spec as for compare (e.g. rwsem, rwsem:faultRetry=false); repeatable; 'all' "
                    + "(the default) replays under every discovered strategy")
    List<String> strategies = new ArrayList<>();

    @Option(names = "--pid", paramLabel = "P", description = "process to replay (default: the one with the most events)")
    Integer pid;

    @Option(names = "--timing", paramLabel = "MODE", defaultValue = "serial",
            description = "serial (file order, or the kernel's mmap_lock order when recorded; one thread), asap (a thread per traced thread), original (asap plus the traced gaps)")
    String timing;

    @Option(names = "--speed", paramLabel = "X", defaultValue = "1",
            description = "with --timing original: divide the traced gaps by X")
    double speed;

    @Option(names = "--clock", paramLabel = "wall|virtual", defaultValue = "wall",
            description = "wall (default): a Java thread per traced thread on this machine; virtual: a simulated core "
                    + "per traced thread in virtual time, priced by --profile, deterministic for a --seed "
                    + "(needs --timing asap or original)")
    String clock;

    @Option(names = "--profile", paramLabel = "NAME|FILE",
            description = "virtual clock: the cost profile, built-in (" + CostProfile.DEFAULT + ", the default) or a "
                    + "file ('mmlab calibrate' writes one)")
    String profile;

    @Option(names = "--seed", paramLabel = "S",
            description = "virtual clock: orders simulated threads whose clocks are equal (default "
                    + ReplayOptions.DEFAULT_SEED + ")")
    Long seed;

    @Option(names = "--maps-out", paramLabel = "FILE",
            description = "write the replayed process's final /proc/pid/maps (with several strategies: FILE.STRATEGY)")
    Path mapsOut;

    @Option(names = "--json", paramLabel = "FILE", description = "write the results as JSON")
    Path json;

    @Option(names = "--lenient", description = "skip and count malformed lines instead of failing")
    boolean lenient;

    /**
     * A command line for this command alone whose parse errors print one line and exit 2 (the parent CLI may
     * install {@link #ONE_LINE_ERRORS} the same way).
     */
    public static CommandLine newCommandLine() {
        return new CommandLine(new ReplayCommand()).setParameterExceptionHandler(ONE_LINE_ERRORS);
    }

    /** Prints {@code mmlab COMMAND: message} and returns 2, the usage exit code. */
    public static final CommandLine.IParameterExceptionHandler ONE_LINE_ERRORS = (e, args) -> {
        e.getCommandLine().getErr().println("mmlab " + e.getCommandLine().getCommandName() + ": " + e.getMessage());
        return CommandLine.ExitCode.USAGE;
    };

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ReplayTiming mode;
        try {
            mode = ReplayTiming.parse(timing);
        } catch (IllegalArgumentException e) {
            return usage(err, e.getMessage());
        }
        if (!(speed > 0) || Double.isInfinite(speed)) {
            return usage(err, "--speed must be a positive number, got " + speed);
        }
        CostProfile costs;
        switch (clock) {
            case "wall":
                if (profile != null || seed != null) {
                    return usage(err, "--profile and --seed need --clock virtual");
                }
                costs = null;
                break;
            case "virtual":
                if (mode == ReplayTiming.SERIAL) {
                    return usage(err, "--clock virtual needs --timing asap or original");
                }
                try {
                    costs = CostProfile.named(profile == null ? CostProfile.DEFAULT : profile);
                } catch (IllegalArgumentException e) {
                    return usage(err, firstLine(e.getMessage()));
                }
                break;
            default:
                return usage(err, "--clock must be wall or virtual, got '" + clock + "'");
        }
        try {
            OutputPaths.checkFile("--json", json);
            OutputPaths.checkFile("--maps-out", mapsOut);
        } catch (UsageException e) {
            return usage(err, e.getMessage());
        }
        List<Strategies.Selected> selected;
        try {
            selected = Strategies.discover().selectAll(strategies);
        } catch (IllegalArgumentException e) {
            return usage(err, e.getMessage());
        }
        if (selected.isEmpty()) {
            return usage(err, "no strategy found on the class path");
        }
        Trace parsed;
        try {
            parsed = TraceParser.parse(trace, lenient);
        } catch (TraceFormatException e) {
            err.println(e.getMessage());
            return CommandLine.ExitCode.USAGE;
        } catch (NoSuchFileException e) {
            return usage(err, trace + ": no such file");
        }
        if (parsed.events().isEmpty()) {
            return usage(err, trace + ": no events to replay");
        }
        if (parsed.skippedLines() > 0 || parsed.errorCount() > 0) {
            err.println(trace + ": " + parsed.errorCount() + " malformed lines skipped (--lenient); first: "
                    + (parsed.errors().isEmpty() ? "-" : parsed.errors().get(0)));
        }
        int p = pid == null ? parsed.defaultPid() : pid;
        if (parsed.eventsOf(p).isEmpty()) {
            return usage(err, trace + " has no events of pid " + p + "; its pids are " + parsed.pids());
        }
        ReplayOptions options = new ReplayOptions(p, mode, speed);
        if (costs != null) {
            options = options.withVirtualClock(costs, seed == null ? ReplayOptions.DEFAULT_SEED : seed);
        }
        List<ReplayResult> results = new ArrayList<>();
        List<SimulationFailedException> failed = new ArrayList<>();
        for (Strategies.Selected s : selected) {
            try {
                results.add(Replayer.replay(parsed, s, options));
            } catch (SimulationFailedException e) {
                // As compare does: the stack goes to the log, the rest of the strategies still replay.
                LOG.error("{}: {}{}", trace, e.getMessage(), where(e.getCause()));
                failed.add(e);
            }
        }
        out.printf("%s: pid %d, %s%s%n", trace, p, mode.label(), costs == null ? ""
                : ", virtual clock (profile " + costs.name() + ", seed " + options.seed() + ")");
        out.print(ReplayReport.table(results));
        out.print(ReplayReport.lockUse(results));
        ReplayScript script = ReplayScript.of(parsed, p);
        KernelLockUse kernel = KernelLockUse.of(script);
        KernelLockTimes kernelTimes = KernelLockTimes.of(script);
        out.print(ReplayReport.kernelLockUse(results, kernel));
        out.print(ReplayReport.kernelLockTimes(results, kernelTimes));
        for (ReplayResult r : results) {
            String prefix = ReplayReport.forkPrefix(r);
            if (!prefix.isEmpty()) {
                out.print(r.strategy() + ": " + prefix);
            }
            String diffs = ReplayReport.differences(r);
            if (!diffs.isEmpty()) {
                out.println(r.strategy() + ": " + r.fidelity());
                out.print(diffs);
            }
            for (String v : r.invariantViolations()) {
                out.println(r.strategy() + ": invariant violation: " + v);
            }
        }
        if (mapsOut != null) {
            for (ReplayResult r : results) {
                Path file = results.size() == 1 ? mapsOut
                        : mapsOut.resolveSibling(mapsOut.getFileName() + "." + r.strategy().replaceAll("[^A-Za-z0-9._=-]", "_"));
                Files.writeString(file, r.finalMaps(), StandardCharsets.UTF_8);
            }
        }
        if (json != null) {
            ReplayReport.writeJson(results, kernel, kernelTimes, json);
        }
        out.flush();
        for (SimulationFailedException e : failed) {
            err.println("mmlab replay: " + firstLine(e.getMessage()));
        }
        return failed.isEmpty() ? CommandLine.ExitCode.OK : CommandLine.ExitCode.SOFTWARE;
    }

    /** The top frames of the stuck or failed simulated thread, one per line. */
    private static String where(Throwable e) {
        StringBuilder sb = new StringBuilder();
        StackTraceElement[] stack = e.getStackTrace();
        for (int i = 0; i < Math.min(8, stack.length); i++) {
            sb.append("\n    at ").append(stack[i]);
        }
        return sb.toString();
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.strip().lines().findFirst().orElse("");
    }

    private int usage(PrintWriter err, String message) {
        err.println("mmlab replay: " + message);
        return CommandLine.ExitCode.USAGE;
    }

    /** Runs the command on its own: {@code java ... dev.mmlab.bench.replay.ReplayCommand TRACE ...}. */
    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }
}
