package dev.mmlab.bench.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmlab.api.Strategies;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Differences the oracle found and the engine now gets right, replayed without the kernel: each directory under
 * {@code cases/} holds a {@code script.ops} and the {@code kernel.out} the kernel driver printed for it on the
 * release named in the script's header. Every case runs on the model under every discovered strategy and is
 * compared as {@code mmlab oracle run} compares ({@link OracleComparison}), so a fix that regresses fails here
 * on any machine, with or without a C compiler or Linux.
 */
class StoredOracleCasesTest {
    private static final String CASES = "cases";

    @TestFactory
    Stream<DynamicTest> everyStoredCaseAgreesWithTheKernelUnderEveryStrategy() throws Exception {
        List<Path> cases = storedCases();
        assertFalse(cases.isEmpty(), "no stored oracle cases found under " + CASES);
        Strategies discovered = Strategies.discover();
        assertFalse(discovered.names().isEmpty(), "no strategy on the test class path");
        List<DynamicTest> tests = new ArrayList<>();
        for (Path dir : cases) {
            OpScript script = OpScript.read(dir.resolve("script.ops"));
            OracleOutput kernel = OracleOutput.parse(Files.readString(dir.resolve("kernel.out"), StandardCharsets.UTF_8));
            for (String name : discovered.names()) {
                tests.add(DynamicTest.dynamicTest(dir.getFileName() + " under " + name,
                        () -> agrees(script, kernel, discovered.select(name))));
            }
        }
        return tests.stream();
    }

    private static void agrees(OpScript script, OracleOutput kernel, Strategies.Selected strategy) {
        assertEquals(script.ops().size(), kernel.results().size(), script.source() + ": one kernel answer per op");
        ModelDriver.Result model = ModelDriver.run(script, strategy);
        OracleComparison c = OracleComparison.of(script, kernel, model.output());
        assertTrue(c.same(), () -> script.source() + " under " + strategy.label() + " differs from the kernel ("
                + kernel.settingsLine() + "):\n" + c.report() + "model:\n" + model.output().text());
        assertTrue(model.violations().isEmpty(), () -> "invariant violations: " + model.violations());
    }

    /** The case directories, by name; each must hold a script and the kernel's answers to it. */
    private static List<Path> storedCases() throws URISyntaxException, IOException {
        var url = StoredOracleCasesTest.class.getResource(CASES);
        if (url == null) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(Path.of(url.toURI()))) {
            List<Path> out = dirs.filter(Files::isDirectory).sorted().toList();
            for (Path d : out) {
                assertTrue(Files.isRegularFile(d.resolve("script.ops")) && Files.isRegularFile(d.resolve("kernel.out")),
                        d + " needs script.ops and kernel.out");
            }
            return out;
        }
    }
}
