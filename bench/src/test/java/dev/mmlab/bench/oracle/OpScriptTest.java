package dev.mmlab.bench.oracle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OpScriptTest {
    private static final String EVERY_OP = String.join("\n",
            "# every op the format has",
            "window 64",
            "mmap 10 4 rw- private anon fixed",
            "mmap 20 2 r-x shared anon hint populate noreserve",
            "mmap 30 1 --- private anon noreplace growsdown locked",
            "munmap 10 2   # trailing comment",
            "",
            "mprotect 11 1 r--",
            "pkey_mprotect 11 1 ---",
            "mremap 10 4 8 maymove",
            "mremap 10 4 4 maymove dontunmap fixed 40",
            "mremap 10 2 1",
            "madvise 10 4 dontneed",
            "madvise 10 4 populate_write",
            "mlock 10 2",
            "mlock 10 2 onfault",
            "munlock 10 2",
            "mlockall current future onfault",
            "munlockall",
            "touch 12 write",
            "touch 63 read");

    @Test
    void parsesEveryOpWithItsLineNumber() throws Exception {
        OpScript s = OpScript.parse("every.ops", EVERY_OP);
        assertEquals(64, s.windowPages());
        assertEquals(18, s.ops().size());
        assertEquals(new Op.Mmap(20, 2, 5, true, Op.Placement.HINT,
                Set.of(Op.MmapOption.POPULATE, Op.MmapOption.NORESERVE)), s.ops().get(1));
        assertEquals(new Op.Munmap(10, 2), s.ops().get(3));
        assertEquals(6, s.lineNos().get(3));
        assertEquals(new Op.Mremap(10, 4, 4, true, true, 40), s.ops().get(7));
        assertEquals(new Op.Touch(12, true), s.ops().get(16));
    }

    @Test
    void printThenParseGivesTheSameScript() throws Exception {
        OpScript s = OpScript.parse("every.ops", EVERY_OP);
        OpScript again = OpScript.parse("printed", s.print());
        assertEquals(s.windowPages(), again.windowPages());
        assertEquals(s.ops(), again.ops());
        assertEquals(s.print(), again.print());
    }

    @Test
    void opsLowerToLinuxNumbers() throws Exception {
        List<Op> ops = OpScript.parse("t", String.join("\n",
                "mmap 10 4 rw- private anon fixed populate",
                "mremap 10 4 8 maymove fixed 100",
                "madvise 1 2 free",
                "mlock 1 1 onfault",
                "touch 3 read")).ops();
        assertEquals("mmap 10 4 3 32818", ops.get(0).call().driverLine()); // PRIVATE|ANONYMOUS|FIXED|POPULATE
        assertEquals("mremap 10 4 8 3 100", ops.get(1).call().driverLine());
        assertEquals("madvise 1 2 8", ops.get(2).call().driverLine());
        assertEquals("mlock2 1 1 1", ops.get(3).call().driverLine());
        assertEquals("touch 3 0", ops.get(4).call().driverLine());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "mmap 10 4 rw- private anon       | bad.ops:2: expected fixed, noreplace or hint after 'mmap 10 4 rw- private anon'",
        "mmap 10 4 rwx private file fixed | bad.ops:2: expected anon (file mappings are not supported yet), found 'file'",
        "mmap 10 4 wr- private anon fixed | bad.ops:2: expected a protection of three letters r, w, x or '-' (rw-, r-x, ---), found 'wr-'",
        "munmap 510 4                     | bad.ops:2: a length in pages 4 is outside 0..2 (the window has 512 pages)",
        "munmap x 4                       | bad.ops:2: expected a page offset, found 'x'",
        "munmap 1 1 1                     | bad.ops:2: unexpected '1' at the end of 'munmap'",
        "madvise 1 1 mergeable            | bad.ops:2: unknown advice 'mergeable'; one of normal random sequential willneed dontneed free remove dontfork dofork hugepage nohugepage dontdump dodump wipeonfork keeponfork cold pageout populate_read populate_write",
        "touch 512 read                   | bad.ops:2: a page offset 512 is outside 0..511 (the window has 512 pages)",
        "window 8                         | bad.ops:2: 'window' must come before the first op",
        "brk 4                            | bad.ops:2: unknown op 'brk'; one of window mmap munmap mprotect pkey_mprotect mremap madvise mlock munlock mlockall munlockall touch",
    })
    void aBadLineSaysFileLineAndWhatIsWrong(String line, String message) {
        ScriptFormatException e = assertThrows(ScriptFormatException.class,
                () -> OpScript.parse("bad.ops", "munmap 0 1\n" + line.strip() + "\n"));
        assertEquals(message, e.getMessage());
        assertEquals(2, e.line());
    }
}
