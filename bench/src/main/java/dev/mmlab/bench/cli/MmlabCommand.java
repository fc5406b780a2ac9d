package dev.mmlab.bench.cli;

import dev.mmlab.bench.UsageException;
import dev.mmlab.bench.plugin.PluginClassLoader;
import dev.mmlab.bench.plugin.PluginPaths;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code mmlab} command line. Exit status: 0 success; 1 a run found invariant violations or a worker threw (or
 * failed inside); 2 bad usage or input, reported as one line (what is wrong, how to fix it) with no stack
 * trace unless {@code --debug}.
 */
@Command(name = "mmlab", mixinStandardHelpOptions = true, versionProvider = MmlabCommand.Version.class,
        description = "Compare mm locking strategies on a model of a Linux address space.",
        subcommands = {ListCommand.class, CompareCommand.class, CheckCommand.class, CalibrateCommand.class,
            JmhCommand.class, CommandLine.HelpCommand.class})
public final class MmlabCommand implements Runnable {
    public static final int OK = 0;
    public static final int VIOLATIONS = 1;
    public static final int USAGE = 2;

    private static final Logger LOG = LoggerFactory.getLogger(MmlabCommand.class);
    /** Subcommands another module of bench provides, added when present on the class path. */
    private static final List<String> OPTIONAL_SUBCOMMANDS = List.of(
            "dev.mmlab.bench.replay.ReplayCommand", "dev.mmlab.bench.replay.RecordCommand", "dev.mmlab.bench.oracle.OracleCommand");

    /** Where the launcher is, for those who run it with {@code java -cp}. */
    public static final String MAIN_CLASS = "dev.mmlab.bench.cli.MmlabCommand";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--plugins", paramLabel = "PATH",
            description = "a jar, or a directory of jars, of third-party strategies and drivers; repeat for several "
                    + "(also: $" + PluginPaths.ENV + ", a path list, and every jar in ~/.mmlab/plugins/); "
                    + "give it before the subcommand")
    List<Path> plugins = new ArrayList<>();

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is needed: list, compare, check, calibrate or jmh");
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line {@code args}, printing to {@code out} and {@code err}; returns the exit status. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        boolean debug = Arrays.asList(args).contains("--debug");
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            err.println(c.getCommandSpec().qualifiedName() + ": " + firstLine(ex.getMessage()) + "; see '"
                    + c.getCommandSpec().qualifiedName() + " --help'");
            if (debug) {
                ex.printStackTrace(err);
            }
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof UsageException) {
                err.println(c.getCommandSpec().qualifiedName() + ": " + firstLine(ex.getMessage()));
                if (debug) {
                    ex.printStackTrace(err);
                }
                return USAGE;
            }
            LOG.debug("command failed", ex);
            err.println(c.getCommandSpec().qualifiedName() + ": failed: " + firstLine(String.valueOf(ex))
                    + (debug ? "" : " (run again with --debug for the stack trace)"));
            if (debug) {
                ex.printStackTrace(err);
            }
            return VIOLATIONS;
        });
        cl.setExecutionStrategy(parsed -> runWithPlugins(parsed, err, debug));
        int rc = cl.execute(args);
        out.flush();
        err.flush();
        return rc;
    }

    /**
     * Runs the parsed subcommand with the plugin jars' class loader as this thread's context class loader, so
     * every discovery the subcommand makes (and the threads it starts, which inherit it) sees the plugins.
     */
    private static int runWithPlugins(CommandLine.ParseResult parsed, PrintWriter err, boolean debug) {
        MmlabCommand top = parsed.commandSpec().commandLine().getCommand();
        PluginClassLoader loader;
        try {
            List<Path> jars = PluginPaths.find(top.plugins, System.getenv(PluginPaths.ENV), PluginPaths.defaultDirectory());
            loader = jars.isEmpty() ? null : PluginClassLoader.open(jars, MmlabCommand.class.getClassLoader());
        } catch (UsageException e) {
            err.println("mmlab: " + firstLine(e.getMessage()));
            if (debug) {
                e.printStackTrace(err);
            }
            return USAGE;
        }
        if (loader == null) {
            return new CommandLine.RunLast().execute(parsed);
        }
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return new CommandLine.RunLast().execute(parsed);
        } finally {
            thread.setContextClassLoader(previous);
            loader.closeQuietly();
        }
    }

    /** The command tree, with the optional subcommands that are on the class path. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new MmlabCommand());
        // LEAD: ReplayCommand/RecordCommand (dev.mmlab.bench.replay) register themselves here when they exist.
        for (String name : OPTIONAL_SUBCOMMANDS) {
            try {
                Object command = Class.forName(name).getDeclaredConstructor().newInstance();
                cl.addSubcommand(command);
            } catch (ClassNotFoundException e) {
                LOG.debug("optional subcommand {} not present", name);
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.warn("optional subcommand {} could not be added: {}", name, e.toString());
            }
        }
        return cl;
    }

    static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        String line = s.strip().lines().findFirst().orElse("");
        return line.endsWith(".") ? line.substring(0, line.length() - 1) : line;
    }

    /** The version from the jar's manifest, when there is one. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = MmlabCommand.class.getPackage().getImplementationVersion();
            return new String[] {"mmlab " + (v == null ? "0.1.0-SNAPSHOT" : v)};
        }
    }
}
