package dev.mmlab.bench.oracle;

import dev.mmlab.api.Strategies;
import dev.mmlab.bench.UsageException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code mmlab oracle run SCRIPT [--strategy SPEC]... [--show-outputs]}: runs one op script on the kernel and on
 * the model under each strategy, and prints each op whose result differs, then the final maps and smaps where
 * they differ. Exit status: 0 the model answered as the kernel under every strategy; 1 it did not (or the
 * invariant checker found a violation); 2 a bad script ({@code FILE:LINE: what is wrong}), bad options, or no
 * kernel driver here (no {@code cc}).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run an op script on this machine's kernel and on the model under each strategy; print where "
                + "they differ.", "Exit 0: identical; 1: they differ; 2: bad script or options. See docs/oracle.md."})
public final class OracleRunCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SCRIPT", description = "an op script (docs/oracle.md has the format)")
    Path script;

    @Option(names = "--strategy", paramLabel = "SPEC",
            description = "strategy spec as for compare (rwsem, pervma:lock=refcount, ...); repeatable; 'all' (the "
                    + "default) runs every discovered strategy")
    List<String> strategies = new ArrayList<>();

    @Option(names = "--show-outputs", description = "also print the kernel's and each strategy's full answers")
    boolean showOutputs;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        OpScript parsed;
        try {
            parsed = OpScript.read(script);
        } catch (ScriptFormatException e) {
            err.println(e.getMessage());
            return CommandLine.ExitCode.USAGE;
        }
        List<Strategies.Selected> selected = select(strategies);
        KernelDriver driver = compileDriver();
        OracleOutput kernel;
        try {
            kernel = driver.run(parsed);
        } catch (KernelDriver.UnavailableException e) {
            throw new UsageException(e.getMessage(), e);
        }
        out.printf("%s: %d ops in a %d-page window; kernel: %s%n", script, parsed.ops().size(), parsed.windowPages(),
                kernel.settingsLine());
        if (showOutputs) {
            out.print("--- kernel\n" + kernel.text());
        }
        boolean allSame = true;
        for (Strategies.Selected s : selected) {
            ModelDriver.Result model = ModelDriver.run(parsed, s);
            OracleComparison c = OracleComparison.of(parsed, kernel, model.output());
            if (showOutputs) {
                out.print("--- " + s.label() + "\n" + model.output().text());
            }
            boolean same = c.same() && model.violations().isEmpty();
            allSame &= same;
            out.println(s.label() + ": " + (same ? "same as the kernel" : "differs from the kernel"));
            out.print(c.report());
            model.violations().forEach(v -> out.println("invariant violation: " + v));
        }
        return allSame ? 0 : 1;
    }

    /**
     * Resolves strategy specs as replay does; {@code all} (or none) is every discovered strategy.
     *
     * @throws UsageException for an unknown strategy or a bad option
     */
    static List<Strategies.Selected> select(List<String> specs) {
        List<Strategies.Selected> selected;
        try {
            selected = Strategies.discover().selectAll(specs);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage(), e);
        }
        if (selected.isEmpty()) {
            throw new UsageException("no strategy found on the class path; build the strategy modules");
        }
        return selected;
    }

    /** The kernel driver, or a usage error saying why there is none (no cc). */
    static KernelDriver compileDriver() {
        try {
            return KernelDriver.compile();
        } catch (KernelDriver.UnavailableException e) {
            throw new UsageException(e.getMessage(), e);
        }
    }
}
