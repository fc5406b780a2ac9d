package dev.mmlab.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Bad usage exits 2 with exactly one line on stderr, no stack trace, nothing run. */
class CliErrorsTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "compare --bogus | Unknown option: '--bogus'",
        "compare --scenario nope | no scenario named 'nope'",
        "compare --scenario fault-vs-mmap --strategy nosuch | no strategy named 'nosuch'",
        "compare --scenario fault-vs-mmap --strategy rwsem:bogus=1 | unknown option 'bogus'",
        "compare --scenario fault-vs-mmap --strategy rwsem:faultRetry=maybe | accepts true|false",
        "compare --scenario fault-vs-mmap --set nosuch=1 | valid keys: faulters, mapper, faultRegion, mapperRegion, adjacent, driver",
        "compare --scenario fault-vs-mmap --set faulters=many | expected faulters=N",
        "compare --scenario fault-vs-mmap --set faulters | --set",
        "compare --scenario proc-scan --strategy unsafe-nolock | unsafe-nolock is valid only for disjoint scenarios",
        "compare --scenario fault-vs-mmap --set adjacent=true --strategy unsafe-nolock | unsafe-nolock is valid only for disjoint",
        "compare --scenario fault-vs-mmap --duration 0 | --duration must be a positive number",
        "compare --scenario fault-vs-mmap --duration soon | --duration",
        "compare --scenario fault-vs-mmap --threads 0 | --threads must be from 1 to 4096",
        "compare --scenario fault-vs-mmap --threads 100000 | --threads must be from 1 to 4096",
        "check --scenario fault-vs-mmap --threads 100000 | --threads must be from 1 to 4096",
        "compare --scenario fault-vs-mmap --set faulters=100000 | 100001 threads in all is more than the limit of 4096",
        "compare --scenario fault-vs-mmap --clock virtual --cores 2 --set faulters=5000 | more than the limit of 4096",
        "compare --set faulters=1 | --set needs --scenario",
        "compare --scenario fault-vs-mmap --set driver=nosuch | no driver named 'nosuch'",
        "frobnicate | Unmatched argument",
        "jmh -bogus | bad JMH arguments",
    })
    void badUsageIsOneLineAndExitTwo(String args, String expected) {
        Cli r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> Cli.run(args.trim().split("\\s+")));
        assertThat(r.rc()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).contains(expected).doesNotContain("\tat ").doesNotContain("Exception");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void debugAddsTheStackTrace() {
        Cli r = Cli.run("compare", "--scenario", "nope", "--debug");
        assertThat(r.rc()).isEqualTo(2);
        assertThat(r.err().lines().count()).isGreaterThan(3);
        assertThat(r.err()).contains("\tat ");
    }

    @Test
    void aBadScenarioFileIsUsage(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "name: x\nroles: 3\n");
        Cli r = Cli.run("compare", "--scenario", bad.toString());
        assertThat(r.rc()).isEqualTo(2);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains("'roles' must be a non-empty list");
    }

    @Test
    void helpAndListSucceed() {
        Cli help = Cli.run("compare", "--help");
        assertThat(help.rc()).isZero();
        assertThat(help.out()).contains("--strategy", "--set", "--duration", "--json", "--html", "--csv");
        Cli top = Cli.run("--help");
        assertThat(top.rc()).isZero();
        assertThat(top.out()).contains("list", "compare", "jmh");
        Cli list = Cli.run("list");
        assertThat(list.rc()).isZero();
        assertThat(list.out()).contains("rwsem", "unsafe-nolock", "slow-file-fault", "page-fault1", "spf-test",
                "example.yaml", "roles:", "bench-test-driver", "faultRetry=true|false");
    }

    @Test
    void noSubcommandIsUsage() {
        Cli r = Cli.run();
        assertThat(r.rc()).isEqualTo(2);
        assertThat(r.err().strip().lines()).hasSize(1);
    }
}
