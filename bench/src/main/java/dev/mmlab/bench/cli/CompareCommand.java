package dev.mmlab.bench.cli;

import dev.mmlab.api.Strategies;
import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.bench.OutputPaths;
import dev.mmlab.bench.UsageException;
import dev.mmlab.bench.report.CsvReport;
import dev.mmlab.bench.report.HtmlReport;
import dev.mmlab.bench.report.JsonReport;
import dev.mmlab.bench.report.TextTable;
import dev.mmlab.bench.run.RunResult;
import dev.mmlab.bench.run.Runner;
import dev.mmlab.bench.run.ScenarioResult;
import dev.mmlab.bench.run.StrategyChoice;
import dev.mmlab.bench.run.UnsafeNoLockStrategy;
import dev.mmlab.bench.run.WorkerFailure;
import dev.mmlab.bench.scenario.Scenario;
import dev.mmlab.bench.scenario.ScenarioParams;
import dev.mmlab.bench.scenario.Scenarios;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code mmlab compare}: runs a scenario under each strategy given and reports side by side. With no
 * scenario it runs the headline set quickly and writes {@code mmlab-report.html} and {@code mmlab-report.json}.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a scenario under each strategy and compare throughput, latency and who blocked whom.",
            "With no --scenario: the headline set (" + "slow-file-fault, proc-scan, fault-vs-mmap, big-munmap"
                + "), writing mmlab-report.html and mmlab-report.json here."})
public final class CompareCommand implements Callable<Integer> {
    static final double HEADLINE_DURATION = 1.5;
    static final double DEFAULT_DURATION = 3;
    static final double DEFAULT_WARMUP = 0.5;
    /** Virtual seconds per run: many simulated cores run in a fraction of a virtual second. */
    static final double DEFAULT_VIRTUAL_DURATION = 0.01;
    static final String DEFAULT_CORES = "1,2,4,8,16,32,64,128,256";
    /** The most simulated cores: each is a Java thread of the simulation. */
    static final int MAX_CORES = 1024;

    @Option(names = "--scenario", paramLabel = "NAME|FILE", description = "a built-in scenario ('mmlab list') or a YAML file")
    String scenario;

    @Option(names = "--strategy", paramLabel = "SPEC",
            description = "NAME or NAME:key=value,...; repeat for several; 'all' (default) is every discovered strategy; 'unsafe-nolock' is the no-lock reference")
    List<String> strategies = new ArrayList<>();

    @Option(names = "--duration", paramLabel = "SECONDS",
            description = "measured seconds per strategy (default " + DEFAULT_DURATION + "; headline set: " + HEADLINE_DURATION + ")")
    Double duration;

    @Option(names = "--warmup", paramLabel = "SECONDS",
            description = "unmeasured seconds before each run (default " + DEFAULT_WARMUP + "; virtual clock: 0)")
    Double warmup;

    @Option(names = "--clock", paramLabel = "wall|virtual", defaultValue = "wall",
            description = "wall (default): Java threads on this machine, measured; virtual: the same code on simulated "
                    + "cores in virtual time, priced by --profile, deterministic for a --seed")
    String clock;

    @Option(names = "--cores", paramLabel = "LIST", split = ",",
            description = "virtual clock: simulated core counts, one run per strategy each; the scenario's scaling role "
                    + "(its * parameter) gets one thread per core unless set (default " + DEFAULT_CORES + ")")
    List<Integer> cores = new ArrayList<>();

    @Option(names = "--profile", paramLabel = "NAME|FILE",
            description = "virtual clock: the cost profile, built-in (" + CostProfile.DEFAULT + ", the default) or a file "
                    + "('mmlab calibrate' writes one)")
    String profile;

    @Option(names = "--jit-warmup", paramLabel = "SECONDS", defaultValue = "1",
            description = "one discarded run before the first, so the engine's code is compiled before anything is measured (default ${DEFAULT-VALUE}; 0: none)")
    double jitWarmup;

    @Option(names = "--threads", paramLabel = "N", description = "threads of the scenario's scaling role (its * parameter in 'mmlab list')")
    Integer threads;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--set", paramLabel = "KEY=VALUE", description = "a scenario parameter; repeat for several")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--self-checks",
            description = "run the engine's and strategies' self-checks (lock assertions, per-cycle VMA scans) while measuring; they slow large address spaces as CONFIG_DEBUG_VM does (the invariant checker runs after every run regardless)")
    boolean selfChecks;

    @Option(names = "--json", paramLabel = "FILE", description = "write results as JSON")
    Path json;

    @Option(names = "--html", paramLabel = "FILE", description = "write the HTML report with charts")
    Path html;

    @Option(names = "--csv", paramLabel = "FILE", description = "write one CSV row per strategy and operation")
    Path csv;

    @Option(names = "--charts", paramLabel = "DIR", description = "also write every chart as a PNG file into DIR")
    Path charts;

    @Mixin
    DebugOption debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One scenario to run with its parameters and strategies. */
    private record Plan(Scenario scenario, ScenarioParams params, List<StrategyChoice> strategies) {}

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        if (duration != null && !(duration > 0)) {
            throw new UsageException("--duration must be a positive number of seconds, got " + duration);
        }
        if (warmup != null && warmup < 0 || jitWarmup < 0) {
            throw new UsageException("--warmup and --jit-warmup must not be negative");
        }
        boolean virtual = parseClock();
        CostProfile costs = virtual ? costProfile(profile) : null;
        List<Integer> coreCounts = virtual ? coreCounts() : List.of();
        checkThreads(threads);
        Strategies found = Strategies.discover();
        List<Plan> plans = new ArrayList<>();
        if (scenario == null) {
            if (!set.isEmpty()) {
                throw new UsageException("--set needs --scenario (parameters differ per scenario; 'mmlab list' shows them)");
            }
            for (String name : Scenarios.HEADLINE) {
                plans.add(headlinePlan(Scenarios.find(name), found));
            }
            if (html == null) {
                html = Path.of("mmlab-report.html");
            }
            if (json == null) {
                json = Path.of("mmlab-report.json");
            }
        } else {
            Scenario s = Scenarios.find(scenario);
            ScenarioParams params = params(s);
            List<StrategyChoice> choices = StrategyChoice.resolve(strategies.isEmpty() ? List.of("all") : strategies, found);
            for (StrategyChoice c : choices) {
                if (c.isUnsafeReference() && !s.disjoint(params)) {
                    throw new UsageException("unsafe-nolock is valid only for disjoint scenarios and " + s.name()
                            + " with these parameters is not (its threads share VMAs); drop --strategy unsafe-nolock");
                }
            }
            plans.add(new Plan(s, params, choices));
        }
        OutputPaths.checkFile("--json", json);
        OutputPaths.checkFile("--html", html);
        OutputPaths.checkFile("--csv", csv);
        OutputPaths.checkDirectory("--charts", charts);
        double seconds = duration != null ? duration
                : virtual ? DEFAULT_VIRTUAL_DURATION : scenario == null ? HEADLINE_DURATION : DEFAULT_DURATION;
        double warm = warmup != null ? warmup : virtual ? 0 : DEFAULT_WARMUP;
        Runner.Options options = new Runner.Options(seconds, warm, seed, 30, selfChecks, costs);
        ProgressBar bar = new ProgressBar(plans.stream().mapToInt(p -> p.strategies().size()).sum()
                * Math.max(1, coreCounts.size()));
        List<ScenarioResult> results = new ArrayList<>();
        int violations = 0;
        List<WorkerFailure> workerFailures = new ArrayList<>();
        Runner runner = new Runner();
        if (!virtual && jitWarmup > 0 && !plans.isEmpty() && !plans.get(0).strategies().isEmpty()) {
            // Runs share one JVM: without this the first strategy would also pay for compiling the engine.
            Plan first = plans.get(0);
            bar.begin("warming up the JIT");
            RunResult warmed = runner.run(first.scenario(), first.params(), first.strategies().get(0),
                    new Runner.Options(jitWarmup, 0, seed, 30, selfChecks), f -> { });
            // Discarded for its figures, not for its failures: a strategy that throws while warming up is broken.
            workerFailures.addAll(warmed.workerFailures());
            violations += warmed.invariantViolations();
        }
        for (Plan plan : plans) {
            List<RunResult> runs = new ArrayList<>();
            for (Integer n : virtual ? coreCounts : Collections.<Integer>singletonList(null)) {
                ScenarioParams params = n == null ? plan.params() : scaled(plan, n);
                for (StrategyChoice choice : plan.strategies()) {
                    if (n != null && choice.isUnsafeReference() && !plan.scenario().disjoint(params)) {
                        continue;
                    }
                    bar.begin(plan.scenario().name() + " under " + choice.label() + (n == null ? "" : " on " + n + " cores"));
                    RunResult r = runner.run(plan.scenario(), params, choice, options, bar::update);
                    bar.end();
                    violations += r.invariantViolations();
                    workerFailures.addAll(r.workerFailures());
                    runs.add(n == null ? r : r.withCores(n));
                }
            }
            ScenarioResult result = new ScenarioResult(plan.scenario().name(), plan.scenario().origin(),
                    plan.params().values(), selfChecks, virtual ? "virtual" : "wall",
                    costs == null ? null : new ScenarioResult.Profile(costs.name(), costs.hash()),
                    ScenarioResult.Machine.current(), runs);
            results.add(result);
            bar.clear();
            out.println(TextTable.render(result));
            out.flush();
        }
        if (json != null) {
            JsonReport.write(results, json);
            out.println("wrote " + json);
        }
        if (csv != null) {
            CsvReport.write(results, csv);
            out.println("wrote " + csv);
        }
        if (charts != null) {
            int n = HtmlReport.writeCharts(results, charts);
            out.println("wrote " + n + " charts to " + charts);
        }
        if (html != null) {
            HtmlReport.write(results, html);
            out.println("wrote " + html);
        }
        PrintWriter err = spec.commandLine().getErr();
        for (WorkerFailure f : workerFailures) {
            err.println("mmlab compare: worker failed: " + f.describe());
        }
        if (violations > 0) {
            err.println("mmlab compare: " + violations
                    + " invariant violations; see the log above and 'violations' in the JSON");
        }
        return violations > 0 || !workerFailures.isEmpty() ? MmlabCommand.VIOLATIONS : MmlabCommand.OK;
    }

    private boolean parseClock() {
        switch (clock) {
            case "wall":
                if (!cores.isEmpty() || profile != null) {
                    throw new UsageException("--cores and --profile need --clock virtual");
                }
                return false;
            case "virtual":
                return true;
            default:
                throw new UsageException("--clock must be wall or virtual, got '" + clock + "'");
        }
    }

    /** The cost profile {@code --profile} names ({@code null}: the default). */
    static CostProfile costProfile(String profile) {
        try {
            return CostProfile.named(profile == null ? CostProfile.DEFAULT : profile);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private List<Integer> coreCounts() {
        List<Integer> counts = new ArrayList<>();
        if (cores.isEmpty()) {
            for (String c : DEFAULT_CORES.split(",")) {
                counts.add(Integer.parseInt(c));
            }
            return counts;
        }
        for (Integer c : cores) {
            if (c == null || c < 1 || c > MAX_CORES) {
                throw new UsageException("--cores takes counts from 1 to " + MAX_CORES + ", got " + c);
            }
            if (!counts.contains(c)) {
                counts.add(c);
            }
        }
        return counts;
    }

    /**
     * {@code plan}'s parameters with its scaling role at {@code n} threads, one per simulated core, unless the
     * user set that role's threads.
     */
    private ScenarioParams scaled(Plan plan, int n) {
        Scenario s = plan.scenario();
        String role = s.threadsParam();
        if (role == null) {
            throw new UsageException(s.name() + " has no scaling role, so --cores has nothing to scale; "
                    + "run it with --clock wall or pick a scenario with a * parameter ('mmlab list')");
        }
        if (threads != null || set.containsKey(role)) {
            return plan.params();
        }
        Map<String, String> given = new LinkedHashMap<>(set);
        given.put(role, Integer.toString(n));
        return ScenarioParams.of(s.name(), s.params(), given);
    }

    /** Refuses a {@code --threads} (null: not given) below 1 or above what one run may have. */
    static void checkThreads(Integer threads) {
        if (threads != null && (threads < 1 || threads > Runner.MAX_THREADS)) {
            throw new UsageException("--threads must be from 1 to " + Runner.MAX_THREADS
                    + " (the most threads one run may have), got " + threads);
        }
    }

    private ScenarioParams params(Scenario s) {
        return params(s, threads, set);
    }

    /** {@code s}'s parameters from {@code --threads} (its scaling role; may be null) and {@code --set}. */
    static ScenarioParams params(Scenario s, Integer threads, Map<String, String> set) {
        Map<String, String> given = new LinkedHashMap<>(set);
        if (threads != null) {
            if (s.threadsParam() == null) {
                throw new UsageException(s.name() + " has no scaling role for --threads; set role threads with --set ROLE=N");
            }
            if (given.containsKey(s.threadsParam())) {
                throw new UsageException("--threads and --set " + s.threadsParam() + " both set the same thing; give one");
            }
            given.put(s.threadsParam(), Integer.toString(threads));
        }
        return ScenarioParams.of(s.name(), s.params(), given);
    }

    /**
     * The headline's strategies for {@code s}: the user's, or by default every discovered strategy, plus
     * {@code rwsem:faultRetry=false} for slow-file-fault (the 2010 contrast) and unsafe-nolock where the
     * scenario is disjoint. An explicit unsafe-nolock is skipped where the scenario is not disjoint.
     */
    private Plan headlinePlan(Scenario s, Strategies found) {
        ScenarioParams params = params(s);
        List<String> specs = new ArrayList<>();
        if (strategies.isEmpty()) {
            specs.add("all");
            if (s.name().equals("slow-file-fault") && found.names().contains("rwsem")) {
                specs.add("rwsem:faultRetry=false");
            }
            specs.add(UnsafeNoLockStrategy.NAME);
        } else {
            specs.addAll(strategies);
        }
        List<StrategyChoice> choices = new ArrayList<>();
        for (StrategyChoice c : StrategyChoice.resolve(specs, found)) {
            if (!c.isUnsafeReference() || s.disjoint(params)) {
                choices.add(c);
            }
        }
        return new Plan(s, params, choices);
    }
}
