package dev.mmlab.bench.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.mmlab.bench.run.ScenarioResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The JSON results: one scenario is one object ({@code scenario, machine, runs, ...}); several scenarios (the
 * headline set) are an array of such objects.
 */
public final class JsonReport {
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private JsonReport() {}

    public static String toJson(List<ScenarioResult> results) {
        try {
            return MAPPER.writeValueAsString(results.size() == 1 ? results.get(0) : results);
        } catch (IOException e) {
            throw new IllegalStateException("results could not be serialized", e);
        }
    }

    /** Writes {@code results} to {@code file}. */
    public static void write(List<ScenarioResult> results, Path file) throws IOException {
        java.nio.file.Files.writeString(file, toJson(results) + "\n");
    }
}
