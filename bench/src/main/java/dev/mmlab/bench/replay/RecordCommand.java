package dev.mmlab.bench.replay;

import dev.mmlab.bench.OutputPaths;
import dev.mmlab.bench.trace.Syscall;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.zip.GZIPOutputStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code mmlab record -o FILE -- CMD ARGS...}: records a program's address-space activity with perf, in the
 * format {@code mmlab replay} reads:
 * <pre>
 * perf record -d -e syscalls:sys_enter_X -e syscalls:sys_exit_X ... -e exceptions:page_fault_user
 *             -e exceptions:page_fault_kernel [-e mmap_lock:... -e signal:signal_generate] -o FILE.data -- CMD ARGS...
 * perf script --show-mmap-events --show-task-events -F comm,pid,tid,time,event,trace -i FILE.data > FILE
 * </pre>
 * for every X in {@link Syscall#TRACED}. FILE is gzipped when its name ends in {@code .gz}.
 *
 * <p>The {@linkplain #OPTIONAL_EVENTS optional events} (the three mmap_lock tracepoints, whose
 * {@code acquire_returned} says in which order the kernel granted the threads' syscalls the lock, and
 * {@code signal:signal_generate}) are recorded where the kernel has them; one missing is left out with one line
 * on standard error, because a trace without them still replays (in file order).
 *
 * <p>Exit codes: 0 recorded; 2 perf is missing, the kernel refused the tracepoints, or bad options (each with
 * one line saying how to fix it); otherwise perf's own exit code.
 */
@Command(name = "record", mixinStandardHelpOptions = true,
        description = "Record a program's mmap/munmap/mprotect/.../page-fault trace with perf for 'mmlab replay'.")
public final class RecordCommand implements Callable<Integer> {
    /** The syscalls recorded, in the order their tracepoints are passed to perf. */
    static final List<String> SYSCALLS = List.of("mmap", "munmap", "mprotect", "pkey_mprotect", "brk", "madvise",
            "mremap", "mlock", "mlock2", "munlock", "mlockall", "munlockall");

    /**
     * Tracepoints recorded only where the kernel has them (tracefs lists them). perf follows the command's own
     * tasks, so the mmap_lock events are those its threads took, which is the traced mm's lock but for the rare
     * access to another process's mm (the {@code mm=} field tells them apart).
     */
    static final List<String> OPTIONAL_EVENTS = List.of("mmap_lock:mmap_lock_start_locking",
            "mmap_lock:mmap_lock_acquire_returned", "mmap_lock:mmap_lock_released", "signal:signal_generate");

    /** Where tracefs may be mounted; the first that exists is asked which tracepoints the kernel has. */
    private static final List<Path> TRACEFS = List.of(Path.of("/sys/kernel/tracing"), Path.of("/sys/kernel/debug/tracing"));

    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
            description = "where the trace goes (perf script text; gzipped if FILE ends in .gz); perf's data goes to FILE.data")
    Path output;

    @Parameters(paramLabel = "CMD", arity = "1..*", description = "the program to record and its arguments (after --)")
    List<String> command = new ArrayList<>();

    /** The environment lookup; tests replace it to simulate a machine without perf. */
    Function<String, String> environment = System::getenv;

    /** Whether the kernel has a tracepoint ({@code group:name}); tests replace it to simulate an older kernel. */
    Predicate<String> tracepointExists = RecordCommand::tracefsHas;

    /** A command line for this command alone whose parse errors print one line and exit 2. */
    public static CommandLine newCommandLine() {
        return new CommandLine(new RecordCommand()).setParameterExceptionHandler(ReplayCommand.ONE_LINE_ERRORS);
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        OutputPaths.checkFile("-o", output);
        Path perf = findOnPath("perf");
        if (perf == null) {
            err.println("mmlab record: perf is not installed (not found on PATH); install it: apt install linux-perf"
                    + " (Debian) or linux-tools-$(uname -r) (Ubuntu), or dnf install perf");
            err.flush();
            return CommandLine.ExitCode.USAGE;
        }
        Path data = output.resolveSibling(output.getFileName() + ".data");
        Path log = Files.createTempFile("mmlab-record", ".log");
        try {
            for (String event : OPTIONAL_EVENTS) {
                if (!tracepointExists.test(event)) {
                    err.println("mmlab record: this kernel has no " + event + " tracepoint; recording without it");
                }
            }
            err.flush();
            int rc = run(recordCommand(perf, data), log, null);
            String perfErr = Files.readString(log, StandardCharsets.UTF_8);
            if (rc != 0 || !Files.exists(data)) {
                String hint = refusalHint(perfErr);
                if (hint == null) {
                    err.print(perfErr); // a failure we cannot name: perf's own words are all there is
                }
                err.println(hint != null ? "mmlab record: " + hint
                        : "mmlab record: perf record failed with exit code " + rc);
                err.flush();
                return hint != null ? CommandLine.ExitCode.USAGE : (rc == 0 ? 1 : rc);
            }
            rc = run(scriptCommand(perf, data), log, output);
            if (rc != 0) {
                err.print(Files.readString(log, StandardCharsets.UTF_8));
                err.println("mmlab record: perf script failed with exit code " + rc);
                err.flush();
                return rc;
            }
            out.println("recorded " + String.join(" ", command) + " to " + output + " (perf data: " + data + ")");
            out.flush();
            return CommandLine.ExitCode.OK;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** {@code perf record -d -e ... -o DATA -- CMD ARGS...}, the optional events the kernel has included. */
    List<String> recordCommand(Path perf, Path data) {
        List<String> cmd = new ArrayList<>(List.of(perf.toString(), "record", "-d"));
        for (String sc : SYSCALLS) {
            cmd.add("-e");
            cmd.add("syscalls:sys_enter_" + sc);
            cmd.add("-e");
            cmd.add("syscalls:sys_exit_" + sc);
        }
        cmd.addAll(List.of("-e", "exceptions:page_fault_user", "-e", "exceptions:page_fault_kernel"));
        for (String event : OPTIONAL_EVENTS) {
            if (tracepointExists.test(event)) {
                cmd.add("-e");
                cmd.add(event);
            }
        }
        cmd.addAll(List.of("-o", data.toString(), "--"));
        cmd.addAll(command);
        return cmd;
    }

    /** {@code perf script --show-mmap-events --show-task-events -F comm,pid,tid,time,event,trace -i DATA}. */
    static List<String> scriptCommand(Path perf, Path data) {
        return List.of(perf.toString(), "script", "--show-mmap-events", "--show-task-events",
                "-F", "comm,pid,tid,time,event,trace", "-i", data.toString());
    }

    /**
     * What to do when perf's messages say the kernel refused the events, or null if they do not. Blocks only
     * on nothing; pure text matching.
     */
    static String refusalHint(String perfErr) {
        String text = perfErr.toLowerCase(Locale.ROOT);
        if (text.contains("perf_event_paranoid") || text.contains("permission denied") || text.contains("access to performance monitoring")
                || text.contains("not permitted")) {
            return "the kernel refused the tracepoints: run as root, or allow it with"
                    + " 'sudo sysctl kernel.perf_event_paranoid=-1' and make tracefs readable"
                    + " ('sudo mount -o remount,mode=755 /sys/kernel/tracing')";
        }
        if (text.contains("tracefs") || text.contains("debugfs") || text.contains("unknown tracepoint")
                || text.contains("event syntax error")) {
            return "the syscall/exception tracepoints are not available: mount tracefs"
                    + " ('sudo mount -t tracefs nodev /sys/kernel/tracing'), run as root, and use a kernel with"
                    + " CONFIG_FTRACE_SYSCALLS";
        }
        return null;
    }

    /**
     * Whether tracefs lists {@code group:name}. When no tracefs is readable here it answers true: perf may still
     * see the event, and if it cannot, its refusal names the fix ({@link #refusalHint}).
     */
    static boolean tracefsHas(String event) {
        String dir = event.replace(':', '/');
        for (Path tracefs : TRACEFS) {
            if (Files.isDirectory(tracefs.resolve("events"))) {
                return Files.isDirectory(tracefs.resolve("events").resolve(dir));
            }
        }
        return true;
    }

    private int run(List<String> cmd, Path log, Path stdoutFile) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile());
        if (stdoutFile == null) {
            pb.redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectInput(ProcessBuilder.Redirect.INHERIT);
            return pb.start().waitFor();
        }
        Process p = pb.start();
        boolean gzip = stdoutFile.getFileName().toString().endsWith(".gz");
        try (InputStream in = p.getInputStream();
                OutputStream file = Files.newOutputStream(stdoutFile);
                OutputStream sink = gzip ? new GZIPOutputStream(file) : file) {
            in.transferTo(sink);
        }
        return p.waitFor();
    }

    private Path findOnPath(String name) {
        String path = environment.apply("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** Runs the command on its own. */
    public static void main(String[] args) {
        System.exit(newCommandLine().execute(args));
    }
}
