package dev.mmlab.bench.jmh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import org.junit.jupiter.api.Test;

class BenchSupportTest {
    @Test
    void bulkBackgroundVmasMatchWhatRealMmapsBuild() {
        Mm real = BenchSupport.newMm("rwsem");
        BenchSupport.backgroundVmas(real, BenchSupport.REAL_MMAP_LIMIT);
        Mm bulk = BenchSupport.newMm("rwsem");
        BenchSupport.backgroundVmas(bulk, BenchSupport.REAL_MMAP_LIMIT + 2);
        assertThat(bulk.tree().size()).isEqualTo(BenchSupport.REAL_MMAP_LIMIT + 2);
        // Same /proc/pid/maps lines for the VMAs both have: same flags, offsets and layout.
        assertThat(bulk.procMaps()).startsWith(real.procMaps());
        assertThat(InvariantChecker.check(bulk)).isEmpty();
        assertThat(InvariantChecker.check(real)).isEmpty();
    }
}
