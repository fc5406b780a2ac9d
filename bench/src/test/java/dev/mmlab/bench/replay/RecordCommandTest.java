package dev.mmlab.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.bench.trace.Syscall;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class RecordCommandTest {
  @TempDir Path dir;

  @Test
  void missingPerfSaysHowToInstallItAndExits2() {
    RecordCommand command = new RecordCommand();
    command.environment = Map.of("PATH", dir.toString())::get; // an empty directory: no perf on this PATH
    CommandLine cl = new CommandLine(command);
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));

    int rc = cl.execute("-o", dir.resolve("t.perf.txt").toString(), "--", "true");

    assertThat(rc).isEqualTo(2);
    assertThat(err.toString().strip()).contains("perf is not installed", "linux-perf", "linux-tools")
        .doesNotContain("\n");
  }

  @Test
  void withoutTracepointAccessItIsOneLineWithoutPerfsUsage() throws Exception {
    // A perf that fails as perf does without tracepoint access: an event error, then its usage text.
    Path bin = java.nio.file.Files.createDirectories(dir.resolve("bin"));
    Path perf = java.nio.file.Files.writeString(bin.resolve("perf"), "#!/bin/sh\n"
        + "echo \"event syntax error: 'syscalls:sys_enter_mmap'\" >&2\n"
        + "echo \" Usage: perf record [<options>] [<command>]\" >&2\n"
        + "echo \"    -e, --event <event>   event selector\" >&2\n"
        + "exit 129\n");
    perf.toFile().setExecutable(true);
    RecordCommand command = new RecordCommand();
    command.environment = Map.of("PATH", bin.toString())::get;
    CommandLine cl = new CommandLine(command);
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));

    int rc = cl.execute("-o", dir.resolve("t.perf.txt").toString(), "--", "true");

    assertThat(rc).isEqualTo(2);
    assertThat(err.toString().strip()).startsWith("mmlab record: the syscall/exception tracepoints are not available")
        .contains("run as root").doesNotContain("Usage").doesNotContain("\n");
  }

  @Test
  void recordsEveryImportedSyscallAndBothFaultKinds() {
    RecordCommand command = new RecordCommand();
    command.command = List.of("ls", "-l");
    List<String> cmd = command.recordCommand(Path.of("/usr/bin/perf"), Path.of("t.data"));

    assertThat(RecordCommand.SYSCALLS).containsExactlyInAnyOrderElementsOf(Syscall.TRACED);
    for (String sc : Syscall.TRACED) {
      assertThat(cmd).contains("syscalls:sys_enter_" + sc, "syscalls:sys_exit_" + sc);
    }
    assertThat(cmd).contains("-d", "exceptions:page_fault_user", "exceptions:page_fault_kernel");
    assertThat(cmd.subList(cmd.size() - 3, cmd.size())).containsExactly("--", "ls", "-l");
    assertThat(RecordCommand.scriptCommand(Path.of("perf"), Path.of("t.data")))
        .contains("--show-mmap-events", "--show-task-events", "comm,pid,tid,time,event,trace");
  }

  @Test
  void kernelRefusalsGetAFix() {
    assertThat(RecordCommand.refusalHint("Error:\nAccess to performance monitoring and observability operations"
        + " is limited.\n... /proc/sys/kernel/perf_event_paranoid ...")).contains("perf_event_paranoid=-1", "root");
    assertThat(RecordCommand.refusalHint("event syntax error: 'syscalls:sys_enter_mmap'\n \\___ unknown tracepoint"))
        .contains("tracefs");
    assertThat(RecordCommand.refusalHint("workload failed: No such file or directory")).isNull();
  }

  @Test
  void optionalEventsOnlyWhereTheKernelHasThem() {
    RecordCommand command = new RecordCommand();
    command.command = List.of("ls");
    command.tracepointExists = e -> true;
    assertThat(command.recordCommand(Path.of("perf"), Path.of("t.data"))).containsAll(RecordCommand.OPTIONAL_EVENTS)
        .contains("mmap_lock:mmap_lock_acquire_returned", "signal:signal_generate");

    command.tracepointExists = e -> !e.startsWith("mmap_lock:");
    assertThat(command.recordCommand(Path.of("perf"), Path.of("t.data")))
        .noneMatch(a -> a.startsWith("mmap_lock:")).contains("signal:signal_generate", "exceptions:page_fault_user");
  }
}
