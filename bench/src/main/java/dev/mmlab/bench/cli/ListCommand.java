package dev.mmlab.bench.cli;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.ServiceProviders;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.VmOpsProvider;
import dev.mmlab.bench.plugin.PluginClassLoader;
import dev.mmlab.bench.run.UnsafeNoLockStrategy;
import dev.mmlab.bench.scenario.BuiltinScenarios;
import dev.mmlab.bench.scenario.Drivers;
import dev.mmlab.bench.scenario.ParamDef;
import dev.mmlab.bench.scenario.Scenario;
import dev.mmlab.bench.scenario.Scenarios;
import dev.mmlab.bench.scenario.YamlScenario;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code mmlab list}: strategies with their options, drivers, scenarios with their parameters, the YAML schema. */
@Command(name = "list", mixinStandardHelpOptions = true,
        description = "List strategies (with options), drivers and scenarios (with parameters).")
public final class ListCommand implements Callable<Integer> {
    @Mixin
    DebugOption debug;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.println("Strategies (--strategy NAME or NAME:key=value,...; 'all' is every one below):");
        Strategies found = Strategies.discover();
        if (found.all().isEmpty()) {
            out.println("  (none found on the class path or in plugins)");
        }
        for (LockingStrategy s : found.all()) {
            out.printf("  %-14s %s [%s]%n", s.name(), s.description(), PluginClassLoader.origin(s));
            for (StrategyOption o : s.options()) {
                out.printf("  %-14s   %s: %s%n", "", o.usage(), o.description());
            }
        }
        out.printf("  %-14s %s%n", UnsafeNoLockStrategy.NAME, new UnsafeNoLockStrategy().description() + " (never in 'all')");
        out.println();
        out.println("Drivers (--set driver=NAME adds one thread faulting in a 2 MiB mapping of it):");
        Drivers drivers = Drivers.discover();
        if (drivers.all().isEmpty()) {
            out.println("  (none found on the class path or in plugins)");
        }
        for (VmOpsProvider d : drivers.all()) {
            out.printf("  %-14s %s [%s]%n", d.name(), d.description(), PluginClassLoader.origin(d));
        }
        if (ServiceProviders.contextLoader() instanceof PluginClassLoader plugins) {
            for (Path jar : plugins.jarsDeclaringNothing()) {
                out.println("  (plugin " + jar + " declares neither: it needs META-INF/services/"
                        + LockingStrategy.class.getName() + " or " + VmOpsProvider.class.getName() + " naming its classes)");
            }
        }
        out.println();
        out.println("Scenarios (--scenario NAME; parameters with --set key=value; --threads sets the one marked *):");
        for (Scenario s : BuiltinScenarios.all()) {
            out.printf("  %-16s %s%n", s.name(), s.origin());
            for (ParamDef p : s.params()) {
                out.printf("  %-16s   %s%s: %s%n", "", p.key().equals(s.threadsParam()) ? "*" : "", p.usage(), p.description());
            }
        }
        out.println("  headline set (compare with no --scenario): " + String.join(", ", Scenarios.HEADLINE));
        out.println();
        out.println("User scenarios: --scenario FILE.yaml, in this form (example: bench/src/main/resources/scenarios/example.yaml,");
        out.println("also in the jar as " + Scenarios.EXAMPLE_RESOURCE + "):");
        YamlScenario.SCHEMA.lines().forEach(l -> out.println("  " + l));
        return MmlabCommand.OK;
    }
}
