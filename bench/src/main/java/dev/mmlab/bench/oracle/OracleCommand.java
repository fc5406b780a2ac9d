package dev.mmlab.bench.oracle;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code mmlab oracle}: differential testing of the model against this machine's kernel, with op scripts
 * ({@link OpScript}) run by the kernel driver ({@link KernelDriver}) and by the model ({@link ModelDriver}).
 */
@Command(name = "oracle", mixinStandardHelpOptions = true,
        description = "Run op scripts on this machine's kernel and on the model, and show where they differ.",
        subcommands = {OracleRunCommand.class, OracleFuzzCommand.class})
public final class OracleCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is needed: run or fuzz");
    }
}
