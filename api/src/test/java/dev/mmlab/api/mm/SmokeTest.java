package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.testing.CoarseTestStrategy;
import org.junit.jupiter.api.Test;

class SmokeTest {
    @Test
    void mapWriteReadUnmap() {
        Mm mm = CoarseTestStrategy.newMm();
        long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        assertThat(mm.read(a)).isZero();
        mm.write(a + PAGE_SIZE, 42);
        assertThat(mm.read(a + PAGE_SIZE)).isEqualTo(42);
        long b = mm.mmapAnon(a + 4 * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
        assertThat(mm.tree().size()).isEqualTo(1);
        mm.mprotect(a + PAGE_SIZE, PAGE_SIZE, PROT_READ);
        assertThat(mm.tree().size()).isEqualTo(3);
        System.out.println(mm.procMaps());
        assertThat(InvariantChecker.check(mm)).isEmpty();
        mm.mprotect(a + PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE);
        assertThat(mm.tree().size()).isEqualTo(1);
        mm.munmap(a, 5 * PAGE_SIZE);
        assertThat(b).isEqualTo(a + 4 * PAGE_SIZE);
        assertThat(mm.tree().size()).isZero();
        assertThat(InvariantChecker.check(mm)).isEmpty();
        assertThat(mm.allocator().livePages()).isEmpty();
    }
}
