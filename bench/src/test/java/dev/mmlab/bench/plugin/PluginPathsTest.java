package dev.mmlab.bench.plugin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.bench.UsageException;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PluginPathsTest {
    @Test
    void optionsThenEnvironmentThenDefaultDirectoryEachOnce(@TempDir Path dir) throws Exception {
        Path a = Files.createFile(dir.resolve("a.jar"));
        Path envDir = Files.createDirectories(dir.resolve("env"));
        Path b = Files.createFile(envDir.resolve("b.jar"));
        Files.createFile(envDir.resolve("readme.txt"));
        Path home = Files.createDirectories(dir.resolve("home"));
        Path c = Files.createFile(home.resolve("c.jar"));

        List<Path> jars = PluginPaths.find(List.of(a), envDir + File.pathSeparator + a, home);

        assertThat(jars).containsExactly(a.toAbsolutePath(), b.toAbsolutePath(), c.toAbsolutePath());
    }

    @Test
    void anAbsentDefaultDirectoryIsFineAndAnAbsentNamedPathIsNot(@TempDir Path dir) {
        assertThat(PluginPaths.find(List.of(), null, dir.resolve("none"))).isEmpty();
        assertThatThrownBy(() -> PluginPaths.find(List.of(), dir.resolve("gone").toString(), dir.resolve("none")))
                .isInstanceOf(UsageException.class).hasMessageContaining("MMLAB_PLUGINS entry");
    }
}
