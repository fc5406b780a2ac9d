package dev.mmlab.bench.oracle;

import dev.mmlab.api.Strategies;
import dev.mmlab.bench.OutputPaths;
import dev.mmlab.bench.UsageException;
import dev.mmlab.bench.oracle.ScriptGenerator.Family;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code mmlab oracle fuzz [--cases N] [--seed S] [--ops K] [--window PAGES] [--families LIST] [--strategy SPEC]...
 * [--out DIR] [--no-shrink]}: random scripts ({@link ScriptGenerator}), each run once on the kernel and on the
 * model under each strategy and compared ({@link OracleComparison}). A case that differs is shrunk against the
 * first strategy it differs under ({@link ScriptShrinker}) and written to {@code DIR/case-N/}: the script as
 * generated and shrunk ({@code .ops}, with the machine's settings as comments), the kernel's and the model's
 * answers to the shrunk script, and the differences. Prints one line per family (ops run, ops whose result
 * differed under some strategy) and the cases whose final maps differed. Exit 0: no difference; 1: some.
 */
@Command(name = "fuzz", mixinStandardHelpOptions = true,
        description = {"Run random op scripts on this machine's kernel and on the model under each strategy; shrink "
                + "and save every case where they differ.", "Exit 0: no difference; 1: some; 2: bad options."})
public final class OracleFuzzCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--cases", paramLabel = "N", defaultValue = "30", description = "scripts to run (default 30)")
    int cases;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", description = "random seed (default 1)")
    long seed;

    @Option(names = "--ops", paramLabel = "K", defaultValue = "40", description = "ops per script (default 40)")
    int ops;

    @Option(names = "--window", paramLabel = "PAGES", defaultValue = "512",
            description = "window size in pages (default 512; at least " + ScriptGenerator.MAX_PAGES + ")")
    int window;

    @Option(names = "--families", paramLabel = "LIST", defaultValue = "mmap,munmap,mprotect,mremap,madvise,mlock,touch",
            description = "comma-separated op families: mmap,munmap,mprotect,mremap,madvise,mlock,touch (the "
                    + "default), file (mmap of files), fork (a fork with a child script)")
    String families;

    @Option(names = "--strategy", paramLabel = "SPEC", description = "strategy spec; repeatable; default all")
    List<String> strategies = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "oracle-mismatches",
            description = "where differing cases are written (default ./oracle-mismatches)")
    Path out;

    @Option(names = "--no-shrink", description = "save differing cases as generated")
    boolean noShrink;

    @Override
    public Integer call() throws IOException {
        PrintWriter pw = spec.commandLine().getOut();
        OutputPaths.checkDirectory("--out", out);
        if (cases < 1 || ops < 1) {
            throw new UsageException("--cases and --ops must be at least 1");
        }
        if (window < ScriptGenerator.MAX_PAGES || window > OpScript.MAX_WINDOW_PAGES) {
            throw new UsageException("--window must be " + ScriptGenerator.MAX_PAGES + ".." + OpScript.MAX_WINDOW_PAGES
                    + " pages, got " + window);
        }
        List<Family> chosen;
        try {
            chosen = Family.parseList(families);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--families: " + e.getMessage(), e);
        }
        List<Strategies.Selected> selected = OracleRunCommand.select(strategies);
        KernelDriver driver = OracleRunCommand.compileDriver();
        ScriptGenerator generator = new ScriptGenerator(seed, window, chosen);
        Map<Family, long[]> perFamily = new EnumMap<>(Family.class);
        chosen.forEach(f -> perFamily.put(f, new long[2]));
        int mapsDiffer = 0;
        int casesDiffer = 0;
        String settings = null;
        for (int c = 1; c <= cases; c++) {
            OpScript script = generator.next("case-" + c + ".ops", ops);
            OracleOutput kernel = kernel(driver, script);
            if (settings == null) {
                settings = kernel.settingsLine();
                pw.printf("oracle fuzz: %d cases of %d ops, seed %d, window %d pages, families %s%nkernel: %s%n",
                        cases, ops, seed, window, families, settings);
            }
            boolean[] opDiffers = new boolean[script.ops().size()];
            boolean mapsDiff = false;
            Strategies.Selected firstDiffering = null;
            for (Strategies.Selected s : selected) {
                ModelDriver.Result model = ModelDriver.run(script, s);
                OracleComparison cmp = OracleComparison.of(script, kernel, model.output());
                for (int i = 0; i < script.ops().size(); i++) {
                    if (i >= model.output().results().size() || i >= kernel.results().size()
                            || !kernel.results().get(i).equals(model.output().results().get(i))) {
                        opDiffers[i] = true;
                    }
                }
                cmp.forksDiffering().forEach(i -> opDiffers[i] = true);
                mapsDiff |= cmp.maps() != null || !cmp.smaps().isEmpty();
                if ((!cmp.same() || !model.violations().isEmpty()) && firstDiffering == null) {
                    firstDiffering = s;
                }
            }
            for (int i = 0; i < script.ops().size(); i++) {
                long[] counts = perFamily.get(Family.of(script.ops().get(i)));
                counts[0]++;
                counts[1] += opDiffers[i] ? 1 : 0;
            }
            mapsDiffer += mapsDiff ? 1 : 0;
            if (firstDiffering != null) {
                casesDiffer++;
                Path where = save(driver, script, firstDiffering, settings);
                pw.printf("case %d differs under %s: saved in %s%n", c, firstDiffering.label(), where);
            }
        }
        pw.printf("%-10s %8s %10s%n", "family", "ops", "differing");
        perFamily.forEach((f, n) -> pw.printf("%-10s %8d %10d%n", f.word(), n[0], n[1]));
        pw.printf("final maps and smaps identical in %d of %d cases; every answer identical in %d of %d cases%n",
                cases - mapsDiffer, cases, cases - casesDiffer, cases);
        return casesDiffer == 0 ? 0 : 1;
    }

    private static OracleOutput kernel(KernelDriver driver, OpScript script) {
        try {
            return driver.run(script);
        } catch (KernelDriver.UnavailableException e) {
            throw new UsageException(e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Shrinks a differing case against {@code strategy} and writes it under {@link #out}; returns its directory. */
    private Path save(KernelDriver driver, OpScript script, Strategies.Selected strategy, String settings)
            throws IOException {
        OpScript small = noShrink ? script : ScriptShrinker.shrink(script, s -> {
            ModelDriver.Result m = ModelDriver.run(s, strategy);
            return !OracleComparison.of(s, kernel(driver, s), m.output()).same() || !m.violations().isEmpty();
        });
        Path dir = out.resolve(script.source().replace(".ops", ""));
        Files.createDirectories(dir);
        String header = "# " + settings + "\n# generated: seed " + seed + ", " + script.source() + " of " + ops
                + " ops, families " + families + "\n";
        Files.writeString(dir.resolve("generated.ops"), header + script.print(), StandardCharsets.UTF_8);
        Path shrunk = dir.resolve("shrunk.ops");
        Files.writeString(shrunk, header + "# shrunk against " + strategy.label() + "\n" + small.print(),
                StandardCharsets.UTF_8);
        OpScript named;
        try {
            named = OpScript.read(shrunk); // for the file's own line numbers in the differences
        } catch (ScriptFormatException e) {
            throw new IllegalStateException("a printed script did not parse: " + e.getMessage(), e);
        }
        OracleOutput kernel = kernel(driver, named);
        ModelDriver.Result model = ModelDriver.run(named, strategy);
        Files.writeString(dir.resolve("kernel.out"), kernel.text(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("model.out"), model.output().text(), StandardCharsets.UTF_8);
        StringBuilder diff = new StringBuilder(OracleComparison.of(named, kernel, model.output()).report());
        model.violations().forEach(v -> diff.append("invariant violation: ").append(v).append('\n'));
        Files.writeString(dir.resolve("differences.txt"), diff, StandardCharsets.UTF_8);
        return dir;
    }
}
