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

    private static final String FILES_AND_FORKS = String.join("\n",
            "window 64",
            "file F1 12",
            "file data_2 0",
            "mmap 10 4 rw- private file F1 2 fixed populate",
            "mmap 20 2 r-- shared file data_2 30 hint",
            "fork {",
            "  touch 10 write",
            "  fork {   # a grandchild",
            "    munmap 10 1",
            "  }",
            "  mmap 30 1 rw- shared file F1 0 noreplace",
            "}",
            "touch 10 read");

    @Test
    void filesAndForksParseAndPrintBack() throws Exception {
        OpScript s = OpScript.parse("f.ops", FILES_AND_FORKS);
        assertEquals(List.of(new OpScript.DeclaredFile("F1", 12), new OpScript.DeclaredFile("data_2", 0)), s.files());
        assertEquals(new Op.Mmap(10, 4, 3, false, "F1", 2, Op.Placement.FIXED, Set.of(Op.MmapOption.POPULATE)),
                s.ops().get(0));
        assertEquals(new Op.Fork(List.of(new Op.Touch(10, true), new Op.Fork(List.of(new Op.Munmap(10, 1))),
                new Op.Mmap(30, 1, 3, true, "F1", 0, Op.Placement.NOREPLACE, Set.of()))), s.ops().get(2));
        assertEquals(List.of(4, 5, 6, 13), s.lineNos());
        OpScript again = OpScript.parse("printed", s.print());
        assertEquals(s.files(), again.files());
        assertEquals(s.ops(), again.ops());
        assertEquals(s.print(), again.print());
        // Built in code, the line numbers are the printed script's.
        assertEquals(again.lineNos(), s.withOps(s.ops()).lineNos());
    }

    @Test
    void fileMappingsAndForksLowerToDriverLines() throws Exception {
        OpScript s = OpScript.parse("f.ops", FILES_AND_FORKS);
        assertEquals("mmap 10 4 3 32786 2 F1", s.ops().get(0).call().driverLine()); // PRIVATE|FIXED|POPULATE
        assertEquals(List.of("fork 4", "touch 10 1", "fork 1", "munmap 10 1", "mmap 30 1 3 1048577 0 F1"),
                s.ops().get(2).driverCalls().stream().map(Call::driverLine).toList());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "mmap 10 4 rw- private anon       | bad.ops:2: expected fixed, noreplace or hint after 'mmap 10 4 rw- private anon'",
        "mmap 10 4 rwx private file F9 0 fixed | bad.ops:2: file F9 is not declared; declare it first with 'file F9 PAGES'",
        "mmap 10 4 rwx private disk fixed | bad.ops:2: expected anon or file, found 'disk'",
        "file F1 4                        | bad.ops:2: 'file' must come before the first op",
        "fork                             | bad.ops:2: expected '{' after 'fork'",
        "}                                | bad.ops:2: '}' closes no fork",
        "fork {                           | bad.ops:2: 'fork {' is not closed by a '}'",
        "mmap 10 4 wr- private anon fixed | bad.ops:2: expected a protection of three letters r, w, x or '-' (rw-, r-x, ---), found 'wr-'",
        "munmap 510 4                     | bad.ops:2: a length in pages 4 is outside 0..2 (the window has 512 pages)",
        "munmap x 4                       | bad.ops:2: expected a page offset, found 'x'",
        "munmap 1 1 1                     | bad.ops:2: unexpected '1' at the end of 'munmap'",
        "madvise 1 1 mergeable            | bad.ops:2: unknown advice 'mergeable'; one of normal random sequential willneed dontneed free remove dontfork dofork hugepage nohugepage dontdump dodump wipeonfork keeponfork cold pageout populate_read populate_write",
        "touch 512 read                   | bad.ops:2: a page offset 512 is outside 0..511 (the window has 512 pages)",
        "window 8                         | bad.ops:2: 'window' must come before the first op",
        "sbrk 4                           | bad.ops:2: unknown op 'sbrk'; one of window file mmap munmap mprotect pkey_mprotect mremap madvise mlock munlock mlockall munlockall touch fork",
    })
    void aBadLineSaysFileLineAndWhatIsWrong(String line, String message) {
        ScriptFormatException e = assertThrows(ScriptFormatException.class,
                () -> OpScript.parse("bad.ops", "munmap 0 1\n" + line.strip() + "\n"));
        assertEquals(message, e.getMessage());
        assertEquals(2, e.line());
    }
}
