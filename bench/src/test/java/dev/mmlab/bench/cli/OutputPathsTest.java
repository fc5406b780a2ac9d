package dev.mmlab.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** An output that could not be written is refused before anything runs: exit 2, one line naming the option. */
class OutputPathsTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "compare --scenario fault-vs-mmap --json DIR/none/x.json | --json DIR/none/x.json: no directory",
        "compare --scenario fault-vs-mmap --html DIR/none/x.html | --html DIR/none/x.html: no directory",
        "compare --scenario fault-vs-mmap --csv DIR/none/x.csv | --csv DIR/none/x.csv: no directory",
        "compare --scenario fault-vs-mmap --json DIR | is a directory; give a file name",
        "compare --scenario fault-vs-mmap --charts DIR/file/charts | --charts DIR/file/charts: DIR/file is not a directory",
        "compare --json DIR/none/x.json | --json DIR/none/x.json: no directory",
        "record -o DIR/none/x.trace -- true | -o DIR/none/x.trace: no directory",
        "oracle fuzz --out DIR/file/m | --out DIR/file/m: DIR/file is not a directory",
    })
    void refusedBeforeRunning(String args, String expected) throws Exception {
        Files.writeString(dir.resolve("file"), "");
        long start = System.nanoTime();
        Cli r = Cli.run(args.replace("DIR", dir.toString()).trim().split("\\s+"));
        assertThat(r.rc()).as(r.err()).isEqualTo(2);
        assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).contains(expected.replace("DIR", dir.toString()));
        assertThat(r.out()).isEmpty();
        assertThat(System.nanoTime() - start).as("refused before running").isLessThan(Duration.ofSeconds(3).toNanos());
    }
}
