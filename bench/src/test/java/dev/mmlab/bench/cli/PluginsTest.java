package dev.mmlab.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.bench.plugin.PluginJars;
import dev.mmlab.bench.plugin.PluginRwsem;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mmlab --plugins PATH}: a jar's strategies are found, listed with their jar, and a broken one is one line. */
class PluginsTest {
    private static final String SERVICE = LockingStrategy.class.getName();

    @Test
    void listShowsAPluginStrategyWithItsJar(@TempDir Path dir) throws Exception {
        Path jar = PluginJars.write(dir.resolve("mine.jar"), SERVICE, PluginRwsem.class.getName());
        Cli r = Cli.run("--plugins", jar.toString(), "list");
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(r.out()).contains(PluginRwsem.NAME).contains("[" + jar.toAbsolutePath() + "]").contains("rwsem")
                .contains("[built in]");
    }

    @Test
    void aDirectoryOfJarsIsSearched(@TempDir Path dir) throws Exception {
        PluginJars.write(dir.resolve("mine.jar"), SERVICE, PluginRwsem.class.getName());
        Cli r = Cli.run("--plugins", dir.toString(), "list");
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(r.out()).contains(PluginRwsem.NAME);
    }

    @Test
    void compareRunsAPluginStrategy(@TempDir Path dir) throws Exception {
        Path jar = PluginJars.write(dir.resolve("mine.jar"), SERVICE, PluginRwsem.class.getName());
        Cli r = Cli.run("--plugins", jar.toString(), "compare", "--scenario", "fault-vs-mmap", "--strategy",
                PluginRwsem.NAME, "--duration", "0.1", "--warmup", "0", "--jit-warmup", "0");
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(r.out()).contains(PluginRwsem.NAME);
    }

    @Test
    void withoutThePluginTheStrategyIsUnknownAndTheMessageSaysWhereItLooked(@TempDir Path dir) throws Exception {
        Path jar = PluginJars.write(dir.resolve("other.jar"), SERVICE + "-misnamed", PluginRwsem.class.getName());
        Cli r = Cli.run("--plugins", jar.toString(), "compare", "--scenario", "fault-vs-mmap", "--strategy", PluginRwsem.NAME);
        assertThat(r.rc()).isEqualTo(2);
        assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).contains("no strategy named '" + PluginRwsem.NAME + "'")
                .contains("looked in: built in, " + jar.toAbsolutePath())
                .contains("META-INF/services/dev.mmlab.api.LockingStrategy naming its class");
    }

    @Test
    void aProviderThatCannotLoadIsOneLine(@TempDir Path dir) throws Exception {
        Path jar = PluginJars.write(dir.resolve("typo.jar"), SERVICE, "com.example.NoSuchStrategy");
        Cli r = Cli.run("--plugins", jar.toString(), "list");
        assertThat(r.rc()).isEqualTo(2);
        assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).contains("plugin " + jar.toAbsolutePath() + ": provider com.example.NoSuchStrategy cannot be loaded: ")
                .doesNotContain("\tat ");
        assertThat(r.out()).isEmpty();

        Cli debug = Cli.run("--plugins", jar.toString(), "list", "--debug");
        assertThat(debug.err()).contains("\tat ");
    }

    @Test
    void aMissingPathIsOneLine(@TempDir Path dir) throws Exception {
        Path notThere = dir.resolve("nope.jar");
        Cli r = Cli.run("--plugins", notThere.toString(), "list");
        assertThat(r.rc()).isEqualTo(2);
        assertThat(r.err().strip().lines()).hasSize(1);
        assertThat(r.err()).contains("--plugins " + notThere + ": no such file or directory");

        Path text = Files.writeString(dir.resolve("notes.txt"), "hello");
        Cli t = Cli.run("--plugins", text.toString(), "list");
        assertThat(t.rc()).isEqualTo(2);
        assertThat(t.err()).contains("neither a jar nor a directory of jars");
    }
}
