package dev.mmlab.it.docs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.Linux;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.check.Violation;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's code, run: {@link DocsTest} checks that the README shows exactly the tagged lines. */
class ReadmeExamplesTest {
    @Test
    void usingTheEngineFromCode() {
        // tag::engine[]
        Strategies.Selected rwsem = Strategies.discover().select("rwsem");
        Mm mm = Mm.create(rwsem, MmConfig.defaults());
        long a = mm.mmapAnon(0, 16 * Linux.PAGE_SIZE, Linux.PROT_READ | Linux.PROT_WRITE, 0);
        mm.write(a, 42);                       // faults the page in through the strategy
        mm.mprotect(a, Linux.PAGE_SIZE, Linux.PROT_READ);
        String maps = mm.procMaps();           // /proc/pid/maps, in the kernel's format
        List<Violation> problems = InvariantChecker.check(mm);   // at a quiescent point
        // end::engine[]
        assertThat(mm.read(a)).isEqualTo(42);
        assertThat(maps.lines()).hasSize(2);
        assertThat(problems).isEmpty();
    }
}
