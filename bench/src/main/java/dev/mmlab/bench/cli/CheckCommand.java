package dev.mmlab.bench.cli;

import dev.mmlab.api.Strategies;
import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.bench.UsageException;
import dev.mmlab.bench.run.OpStats;
import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.Runner;
import dev.mmlab.bench.run.StrategyChoice;
import dev.mmlab.bench.scenario.Scenario;
import dev.mmlab.bench.scenario.ScenarioParams;
import dev.mmlab.bench.scenario.Scenarios;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mmlab check}: the virtual-time scheduler as a test tool. Runs a scenario under seeded schedules of an
 * exploring scheduler (seeded thread priorities, a chance of preemption at every seam call), the invariant
 * checker after each; on the first failure prints the seed that reproduces it and the interleaving that led to
 * it, and exits 1.
 */
@Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a scenario under seeded thread interleavings on simulated cores, under each strategy, with "
                + "the invariant checker after each.",
            "On a failure: the seed that reproduces it and the interleaving that led to it; exit 1."})
public final class CheckCommand implements Callable<Integer> {
    static final int DEFAULT_SCHEDULES = 100;
    /** Virtual seconds per schedule: a few hundred operations. */
    static final double DEFAULT_DURATION = 0.0005;
    static final int DEFAULT_PREEMPT_ONE_IN = 64;

    @Option(names = "--scenario", paramLabel = "NAME|FILE", required = true,
            description = "a built-in scenario ('mmlab list') or a YAML file; small ones check fastest")
    String scenario;

    @Option(names = "--strategy", paramLabel = "SPEC",
            description = "NAME or NAME:key=value,...; repeat for several; 'all' (default) is every discovered strategy")
    List<String> strategies = new ArrayList<>();

    @Option(names = "--schedules", paramLabel = "N", defaultValue = "" + DEFAULT_SCHEDULES,
            description = "schedules per strategy (default ${DEFAULT-VALUE})")
    int schedules;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1",
            description = "the first schedule's seed; schedule i uses S+i, so a failing seed with --schedules 1 "
                    + "replays it (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "" + DEFAULT_DURATION,
            description = "virtual seconds per schedule (default ${DEFAULT-VALUE})")
    double duration;

    @Option(names = "--preempt-one-in", paramLabel = "K", defaultValue = "" + DEFAULT_PREEMPT_ONE_IN,
            description = "the chance of a preemption at each seam call, one in K (default ${DEFAULT-VALUE})")
    int preemptOneIn;

    @Option(names = "--threads", paramLabel = "N", description = "threads of the scenario's scaling role (its * parameter in 'mmlab list')")
    Integer threads;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "a scenario parameter; repeat for several")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--profile", paramLabel = "NAME|FILE",
            description = "the cost profile that prices the steps (default " + CostProfile.DEFAULT + ")")
    String profile;

    @Mixin
    DebugOption debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (schedules < 1) {
            throw new UsageException("--schedules must be at least 1, got " + schedules);
        }
        if (!(duration > 0)) {
            throw new UsageException("--duration must be a positive number of virtual seconds, got " + duration);
        }
        if (preemptOneIn < 1) {
            throw new UsageException("--preempt-one-in must be at least 1, got " + preemptOneIn);
        }
        CompareCommand.checkThreads(threads);
        CostProfile costs = CompareCommand.costProfile(profile);
        Scenario s = Scenarios.find(scenario);
        ScenarioParams params = CompareCommand.params(s, threads, set);
        List<StrategyChoice> choices = StrategyChoice.resolve(strategies.isEmpty() ? List.of("all") : strategies,
                Strategies.discover());
        PrintWriter out = spec.commandLine().getOut();
        Runner runner = new Runner();
        int failures = 0;
        for (StrategyChoice choice : choices) {
            long ops = 0;
            int ran = 0;
            Runner.Checked failed = null;
            for (; ran < schedules && failed == null; ran++) {
                Runner.Options options = new Runner.Options(duration, 0, seed + ran, 30, true, costs, preemptOneIn);
                Runner.Checked checked = runner.check(s, params, choice, options);
                ops += checked.result().ops().values().stream().mapToLong(OpStats::count).sum();
                if (checked.result().failed()) {
                    failed = checked;
                }
            }
            if (failed == null) {
                out.printf("%s: %d schedules, %,d operations, no failure%n", choice.label(), ran, ops);
            } else {
                failures++;
                printFailure(out, choice, seed + ran - 1, ran, failed);
            }
            out.flush();
        }
        return failures == 0 ? MmlabCommand.OK : MmlabCommand.VIOLATIONS;
    }

    private void printFailure(PrintWriter out, StrategyChoice choice, long failingSeed, int ran, Runner.Checked failed) {
        RunResult r = failed.result();
        out.printf("%s: schedule seed %d fails (schedule %d of %d): %d invariant violations, %d worker failures%n",
                choice.label(), failingSeed, ran, schedules, r.invariantViolations(), r.workerFailures().size());
        r.violations().forEach(v -> out.println("  " + v.replace("\n", "\n  ")));
        r.workerFailures().forEach(f -> out.println("  worker failure: " + f.describe()));
        StringBuilder again = new StringBuilder("mmlab check --scenario ").append(scenario)
                .append(" --strategy ").append(choice.label()).append(" --schedules 1 --seed ").append(failingSeed);
        if (duration != DEFAULT_DURATION) {
            again.append(" --duration ").append(duration);
        }
        if (preemptOneIn != DEFAULT_PREEMPT_ONE_IN) {
            again.append(" --preempt-one-in ").append(preemptOneIn);
        }
        if (threads != null) {
            again.append(" --threads ").append(threads);
        }
        set.forEach((k, v) -> again.append(" --set ").append(k).append('=').append(v));
        if (profile != null) {
            again.append(" --profile ").append(profile);
        }
        out.println("reproduce: " + again);
        out.println("the last switches before the failure (virtual time, thread, the seam call and its callers, who ran next):");
        failed.interleaving().forEach(line -> out.println("  " + line));
    }
}
