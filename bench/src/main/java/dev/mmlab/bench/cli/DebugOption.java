package dev.mmlab.bench.cli;

import picocli.CommandLine.Option;

/** {@code --debug}: stack traces on errors (read by {@link MmlabCommand#execute} before parsing). */
public final class DebugOption {
    @Option(names = "--debug", description = "print stack traces on errors")
    boolean debug;
}
