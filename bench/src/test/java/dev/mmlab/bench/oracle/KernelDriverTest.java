package dev.mmlab.bench.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmlab.bench.replay.MapsComparison;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The driver on this machine's kernel: answers every Linux since 4.17 gives (MAP_FIXED_NOREPLACE). */
class KernelDriverTest {
    private static KernelDriver driver;

    @BeforeAll
    static void compile() {
        driver = driverOrSkip();
    }

    /** The compiled driver, or the test is skipped with the reason (no cc, not Linux). */
    static KernelDriver driverOrSkip() {
        try {
            return KernelDriver.compile();
        } catch (KernelDriver.UnavailableException e) {
            Assumptions.assumeTrue(false, "kernel driver unavailable: " + e.getMessage());
            return null;
        }
    }

    private static OracleOutput run(String... lines) throws Exception {
        return driver.run(OpScript.parse("test.ops", String.join("\n", lines)));
    }

    private static String maps(OracleOutput out) {
        return out.maps().stream().map(MapsComparison.Line::text).collect(Collectors.joining("\n"));
    }

    @Test
    void munmapInTheMiddleSplitsOneVmaInTwo() throws Exception {
        OracleOutput out = run("mmap 10 4 rw- private anon fixed", "munmap 11 1");
        assertEquals(List.of("ok 10", "ok 0"), out.results());
        assertEquals("map 10 11 rw-p 00000000 00:00 0\nmap 12 14 rw-p 00000000 00:00 0", maps(out));
    }

    @Test
    void mprotectOfPartOfAProtNoneMappingSplitsIt() throws Exception {
        OracleOutput out = run("mmap 10 4 --- private anon fixed", "mprotect 11 1 rw-");
        assertEquals(List.of("ok 10", "ok 0"), out.results());
        assertEquals("map 10 11 ---p 00000000 00:00 0\nmap 11 12 rw-p 00000000 00:00 0\n"
                + "map 12 14 ---p 00000000 00:00 0", maps(out));
    }

    @Test
    void touchesOfProtNoneAndUnmappedPagesAreSigsegv() throws Exception {
        OracleOutput out = run("mmap 10 2 --- private anon fixed", "mmap 12 2 rw- private anon fixed",
                "touch 10 read", "touch 20 write", "touch 12 write", "touch 13 read");
        assertEquals(List.of("ok 10", "ok 12", "SIGSEGV", "SIGSEGV", "mapped", "mapped"), out.results());
        // The read of a never-written anonymous page maps the zero page: not in Rss.
        assertEquals(new OracleOutput.Smaps(12, 14, 8, 4, 4, 4, false), out.smaps().get(1));
    }

    @Test
    void mremapGrowInPlaceFailsWhenTheNextPageIsMappedUnlessItMayMove() throws Exception {
        OracleOutput out = run("mmap 10 2 rw- private anon fixed", "mmap 12 1 r-- private anon fixed",
                "mremap 10 2 4", "mremap 10 2 4 maymove");
        assertEquals(List.of("ok 10", "ok 12", "err ENOMEM", "ok outside"), out.results());
        assertEquals("map 12 13 r--p 00000000 00:00 0", maps(out));
    }

    @Test
    void recordsTheSettingsThatChangeTheAnswers() throws Exception {
        OracleOutput out = run("mmap 0 1 rw- private anon noreplace", "mmap 0 1 rw- private anon noreplace");
        assertEquals(List.of("ok 0", "err EEXIST"), out.results());
        for (String key : List.of("kernel", "thp", "overcommit_memory", "max_map_count", "thp_disable", "window")) {
            assertTrue(out.settings().containsKey(key), key + " in " + out.settings());
        }
    }

    @Test
    void aTouchPastTheEndOfAFileIsSigbusAndMapsShowTheFilesScriptName() throws Exception {
        OracleOutput out = run("file F1 2", "mmap 10 4 rw- private file F1 0 fixed", "touch 11 read", "touch 12 read",
                "mmap 20 1 r-- shared file F1 5 fixed", "touch 20 read");
        assertEquals(List.of("ok 10", "mapped", "SIGBUS", "ok 20", "SIGBUS"), out.results());
        assertEquals(2, out.maps().size());
        MapsComparison.Line first = out.maps().get(0);
        assertEquals(List.of(10L, 14L, "rw-p", 0L, "F1"),
                List.of(first.start(), first.end(), first.perms(), first.offset(), first.path()));
        assertEquals(List.of("r--s", 5L * 4096, "F1"),
                List.of(out.maps().get(1).perms(), out.maps().get(1).offset(), out.maps().get(1).path()));
        assertTrue(out.settings().containsKey("file_system"), out.settings().toString());
    }

    @Test
    void aForkedChildsChangesStayInTheChild() throws Exception {
        OracleOutput out = run("mmap 10 4 rw- private anon fixed", "touch 10 write", "fork {", "  munmap 10 2",
                "  touch 10 read", "  touch 12 write", "}", "touch 10 read", "touch 13 read");
        assertEquals(List.of("ok 10", "mapped", "ok fork", "mapped", "mapped"), out.results());
        assertEquals("map 10 14 rw-p 00000000 00:00 0", maps(out));
        OracleOutput child = out.children().get(0);
        assertEquals(List.of("ok 0", "SIGSEGV", "mapped"), child.results());
        assertEquals("map 12 14 rw-p 00000000 00:00 0", maps(child));
        // The child wrote page 12 after the fork: its own copy; the parent's Rss is pages 10 (written) only.
        assertEquals(new OracleOutput.Smaps(10, 14, 16, 4, 4, 4, false), out.smaps().get(0));
    }

    @Test
    void theModelAnswersAForkScriptAsTheKernelDoes() throws Exception {
        OpScript script = OpScript.parse("fork.ops", String.join("\n", "mmap 10 4 rw- private anon fixed",
                "touch 10 write", "fork {", "  munmap 10 2", "  touch 10 read", "  touch 12 write", "}",
                "touch 10 read", "touch 12 read"));
        OracleOutput kernel = driver.run(script);
        ModelDriver.Result model = ModelDriver.run(script, dev.mmlab.api.Strategies.discover().selectAll(
                List.of("rwsem")).get(0));
        OracleComparison c = OracleComparison.of(script, kernel, model.output());
        assertTrue(c.same(), c.report());
        assertEquals(List.of(), model.violations());
    }
}
