package dev.mmlab.bench.scenario;

import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.bench.UsageException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** The validated parameter values of one scenario run: every declared parameter, defaults filled in. Immutable. */
public final class ScenarioParams {
    private final String scenario;
    private final Map<String, String> values;

    private ScenarioParams(String scenario, Map<String, String> values) {
        this.scenario = scenario;
        this.values = Collections.unmodifiableMap(values);
    }

    /**
     * Validates {@code given} against {@code defs}.
     *
     * @throws UsageException for an unknown key (the message lists every valid key) or a bad value
     */
    public static ScenarioParams of(String scenario, List<ParamDef> defs, Map<String, String> given) {
        Map<String, ParamDef> byKey = new LinkedHashMap<>();
        Map<String, String> values = new LinkedHashMap<>();
        for (ParamDef d : defs) {
            byKey.put(d.key(), d);
            values.put(d.key(), d.validate(scenario, d.defaultValue()));
        }
        for (Map.Entry<String, String> e : given.entrySet()) {
            ParamDef d = byKey.get(e.getKey());
            if (d == null) {
                throw new UsageException(scenario + " has no parameter '" + e.getKey() + "'; valid keys: "
                        + defs.stream().map(ParamDef::key).collect(Collectors.joining(", ")));
            }
            values.put(d.key(), d.validate(scenario, e.getValue()));
        }
        return new ScenarioParams(scenario, values);
    }

    public String scenario() {
        return scenario;
    }

    /** Every parameter with its value, in declaration order. */
    public Map<String, String> values() {
        return values;
    }

    public String get(String key) {
        String v = values.get(key);
        if (v == null) {
            throw new IllegalArgumentException(scenario + " declares no parameter " + key);
        }
        return v;
    }

    public int integer(String key) {
        return Math.toIntExact(Long.parseLong(get(key)));
    }

    public long size(String key) {
        return Long.parseLong(get(key));
    }

    public boolean bool(String key) {
        return Boolean.parseBoolean(get(key));
    }

    public double probability(String key) {
        return Double.parseDouble(get(key));
    }

    public LatencyModel latency(String key) {
        return LatencyModel.parse(get(key));
    }

    @Override
    public String toString() {
        return scenario + values;
    }
}
