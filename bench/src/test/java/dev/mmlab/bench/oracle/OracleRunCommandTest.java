package dev.mmlab.bench.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmlab.bench.cli.MmlabCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OracleRunCommandTest {
    @TempDir
    Path dir;

    private record Cli(int rc, String out, String err) {}

    private static Cli mmlab(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = MmlabCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Cli(rc, out.toString(), err.toString());
    }

    @Test
    void aScriptTheModelGetsRightExitsZeroUnderEveryStrategy() throws Exception {
        KernelDriverTest.driverOrSkip();
        Path script = Files.writeString(dir.resolve("agree.ops"), String.join("\n",
                "window 64",
                "mmap 10 4 rw- private anon fixed",
                "munmap 11 1               # splits the mapping",
                "touch 10 write",
                "touch 11 read             # SIGSEGV on both",
                "mprotect 12 1 ---",
                "mremap 12 2 4             # ENOMEM: cannot grow in place",
                "mlock 13 1",
                "madvise 10 1 dontneed",
                ""));
        Cli r = mmlab("oracle", "run", script.toString());
        assertEquals(0, r.rc(), r.out() + r.err());
        for (String s : new String[] {"rwsem", "rangelock", "speculative", "pervma"}) {
            assertTrue(r.out().contains(s + ": same as the kernel"), r.out());
        }
    }

    @Test
    void aBadScriptExitsTwoWithFileAndLine() throws Exception {
        Path script = Files.writeString(dir.resolve("bad.ops"), "mmap 10 4 rw- private anon fixed\nmunmap 10\n");
        Cli r = mmlab("oracle", "run", script.toString());
        assertEquals(2, r.rc());
        assertEquals(script + ":2: expected a length in pages after 'munmap 10'", r.err().strip());
    }

    @Test
    void aMissingScriptExitsTwo() {
        Cli r = mmlab("oracle", "run", dir.resolve("none.ops").toString());
        assertEquals(2, r.rc());
        assertTrue(r.err().contains("none.ops:0: no such file"), r.err());
    }
}
