package dev.mmlab.bench.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs the CLI in-process and captures what it printed. */
record Cli(int rc, String out, String err) {
    static Cli run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = MmlabCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Cli(rc, out.toString(), err.toString());
    }
}
