package dev.mmlab.bench.cli;

import dev.mmlab.api.Strategies;
import dev.mmlab.bench.UsageException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code mmlab jmh [JMH args]}: the JMH benchmarks of this jar ({@code dev.mmlab.bench.jmh}), with JMH's own
 * options ({@code -h} lists them). Unless {@code -p strategy=...} is given, every discovered strategy is
 * benchmarked.
 */
@Command(name = "jmh", description = {"Run the JMH benchmarks (fault cost, mmap/munmap, lock acquire/release) with JMH's options.",
    "Example: mmlab jmh FaultBenchmark.anonFault -p vmas=10 -f 1 -wi 2 -i 3. JMH's help: mmlab jmh -h"})
public final class JmhCommand implements Callable<Integer> {
    @CommandLine.Unmatched
    List<String> jmhArgs = new ArrayList<>();

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws RunnerException {
        List<String> args = new ArrayList<>(jmhArgs);
        args.remove("--debug");
        boolean strategyGiven = false;
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).equals("-p") && i + 1 < args.size() && args.get(i + 1).startsWith("strategy=")) {
                strategyGiven = true;
            }
        }
        if (!strategyGiven) {
            List<String> names = Strategies.discover().names();
            if (!names.isEmpty()) {
                args.add("-p");
                args.add("strategy=" + String.join(",", names));
            }
        }
        CommandLineOptions options;
        try {
            options = new CommandLineOptions(args.toArray(new String[0]));
        } catch (CommandLineOptionException e) {
            throw new UsageException("bad JMH arguments: " + e.getMessage() + "; see 'mmlab jmh -h'", e);
        }
        if (options.shouldHelp()) {
            try {
                options.showHelp();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
            return MmlabCommand.OK;
        }
        if (options.shouldList()) {
            new Runner(options).list();
            return MmlabCommand.OK;
        }
        new Runner(options).run();
        return MmlabCommand.OK;
    }
}
