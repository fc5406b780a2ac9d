package dev.mmlab.bench.scenario;

import dev.mmlab.bench.UsageException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** Finds a scenario by built-in name or YAML file. */
public final class Scenarios {
    /** The headline set {@code compare} runs with no scenario: the talk's point in four situations. */
    public static final List<String> HEADLINE = List.of("slow-file-fault", "proc-scan", "fault-vs-mmap", "big-munmap");

    /** The example user scenario shipped in the jar. */
    public static final String EXAMPLE_RESOURCE = "/scenarios/example.yaml";

    private Scenarios() {}

    /**
     * The built-in scenario named {@code nameOrFile}, or the YAML scenario in that file.
     *
     * @throws UsageException when it is neither, listing the built-in names
     */
    public static Scenario find(String nameOrFile) {
        for (Scenario s : BuiltinScenarios.all()) {
            if (s.name().equals(nameOrFile)) {
                return s;
            }
        }
        Path path = Path.of(nameOrFile);
        if (Files.isRegularFile(path)) {
            return YamlScenario.load(path);
        }
        throw new UsageException("no scenario named '" + nameOrFile + "' and no such file; built in: "
                + BuiltinScenarios.all().stream().map(Scenario::name).collect(Collectors.joining(", "))
                + " (or give a YAML file; 'mmlab list' shows the schema)");
    }
}
