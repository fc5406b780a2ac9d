package dev.mmlab.bench.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.bench.UsageException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ScenarioParamsTest {
    private final Scenario slow = Scenarios.find("slow-file-fault");

    @Test
    void defaultsFillEveryDeclaredParameter() {
        ScenarioParams p = ScenarioParams.of(slow.name(), slow.params(), Map.of());
        assertThat(p.values().keySet()).containsExactly("reader", "mapper", "faulters", "latency", "fileSize",
                "mapperRegion", "faultRegion", "driver");
        assertThat(p.integer("reader")).isEqualTo(1);
        assertThat(p.size("fileSize")).isEqualTo(64L << 20);
        assertThat(p.latency("latency").sampleNanos(new java.util.SplittableRandom(1))).isEqualTo(5_000_000);
        assertThat(p.get("driver")).isEqualTo("none");
    }

    @Test
    void givenValuesAreValidatedAndCanonical() {
        Map<String, String> given = new LinkedHashMap<>();
        given.put("faulters", "0x4");
        given.put("fileSize", "16M");
        given.put("latency", "uniform:1ms..3ms");
        ScenarioParams p = ScenarioParams.of(slow.name(), slow.params(), given);
        assertThat(p.integer("faulters")).isEqualTo(4);
        assertThat(p.get("fileSize")).isEqualTo(Long.toString(16L << 20));
        assertThat(p.latency("latency").toString()).isEqualTo("uniform:1ms..3ms");
    }

    @Test
    void unknownKeyListsEveryValidKeyOnOneLine() {
        assertThatThrownBy(() -> ScenarioParams.of(slow.name(), slow.params(), Map.of("readers", "2")))
                .isInstanceOf(UsageException.class)
                .hasMessage("slow-file-fault has no parameter 'readers'; valid keys: reader, mapper, faulters, latency, "
                        + "fileSize, mapperRegion, faultRegion, driver");
    }

    @Test
    void badValuesSayWhatIsExpected() {
        assertThatThrownBy(() -> ScenarioParams.of(slow.name(), slow.params(), Map.of("faulters", "-1")))
                .isInstanceOf(UsageException.class).hasMessageContaining("faulters=N");
        assertThatThrownBy(() -> ScenarioParams.of(slow.name(), slow.params(), Map.of("fileSize", "lots")))
                .isInstanceOf(UsageException.class).hasMessageContaining("fileSize=SIZE");
        assertThatThrownBy(() -> ScenarioParams.of(slow.name(), slow.params(), Map.of("latency", "soon")))
                .isInstanceOf(UsageException.class).hasMessageContaining("latency=LATENCY");
        Scenario fvm = Scenarios.find("fault-vs-mmap");
        assertThatThrownBy(() -> ScenarioParams.of(fvm.name(), fvm.params(), Map.of("adjacent", "yes")))
                .isInstanceOf(UsageException.class).hasMessageContaining("adjacent=true|false");
        Scenario stall = Scenarios.find("reclaim-stall");
        assertThatThrownBy(() -> ScenarioParams.of(stall.name(), stall.params(), Map.of("stallProbability", "1.5")))
                .isInstanceOf(UsageException.class).hasMessageContaining("stallProbability=P");
    }

    @Test
    void sizesAcceptUnits() {
        assertThat(ParamDef.parseSize("4096")).isEqualTo(4096);
        assertThat(ParamDef.parseSize("64k")).isEqualTo(64 << 10);
        assertThat(ParamDef.parseSize("2MB")).isEqualTo(2 << 20);
        assertThat(ParamDef.parseSize("1g")).isEqualTo(1L << 30);
        assertThatThrownBy(() -> ParamDef.parseSize("2x")).isInstanceOf(NumberFormatException.class);
    }

    @Test
    void everyBuiltinScenarioHasUniqueKeysAndAValidThreadsParameter() {
        for (Scenario s : BuiltinScenarios.all()) {
            assertThat(s.params()).extracting(ParamDef::key).doesNotHaveDuplicates();
            ScenarioParams p = ScenarioParams.of(s.name(), s.params(), Map.of());
            if (s.threadsParam() != null) {
                assertThat(p.values()).containsKey(s.threadsParam());
            }
            assertThat(s.origin()).isNotBlank();
        }
        assertThat(BuiltinScenarios.all()).extracting(Scenario::name).doesNotHaveDuplicates()
                .containsAll(Scenarios.HEADLINE);
    }

    @Test
    void unknownScenarioNamesTheBuiltinOnes() {
        assertThatThrownBy(() -> Scenarios.find("nope")).isInstanceOf(UsageException.class)
                .hasMessageContaining("no scenario named 'nope'").hasMessageContaining("slow-file-fault");
    }
}
