package dev.mmlab.speculative;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.Vma;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.testing.TestMms;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Discovery, options, and the sequence bookkeeping of each validation mode at quiescent points. */
class SpeculativeStrategyTest {
    @Test
    void foundThroughServiceLoaderByName() {
        var names = StreamSupport.stream(ServiceLoader.load(LockingStrategy.class).spliterator(), false)
                .map(LockingStrategy::name).collect(Collectors.toList());
        assertThat(names).contains(SpeculativeStrategy.NAME, "rwsem");
        assertThat(Strategies.discover().get(SpeculativeStrategy.NAME)).isInstanceOf(SpeculativeStrategy.class);
        Mm mm = TestMms.create("speculative:validation=mm,munmapDowngrade=false");
        assertThat(SpecMm.parts(mm).mmSeq()).isNotNull();
    }

    @Test
    void rejectsABadValidationMode() {
        SpeculativeStrategy s = new SpeculativeStrategy();
        assertThatThrownBy(() -> StrategyConfig.of(s.name(), s.options(), Map.of("validation", "pte")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("vma|mm");
        assertThat(StrategyConfig.of(s.name(), s.options(), Map.of()).get("validation")).isEqualTo("vma");
    }

    @Test
    void perVmaCountsAreEvenAtRestAndRetiredVmasStayOdd() {
        Mm mm = SpecMm.newMm("vma");
        long a = mm.mmapAnon(0, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        Vma before = mm.tree().find(a);
        SeqCount beforeSeq = VmaSequences.seqOf(before);
        assertThat(beforeSeq.value()).isEqualTo(2); // begun by prepareNew, ended at unlock
        mm.mprotect(a + 2 * PAGE_SIZE, PAGE_SIZE, PROT_READ);
        assertThat(before.isDetached()).isTrue();
        assertThat(beforeSeq.isOdd()).as("retired VMA stays odd").isTrue();
        for (Vma v : mm.tree().all()) {
            assertThat(VmaSequences.seqOf(v).isOdd()).isFalse();
        }
        assertThat(mm.parts().checkQuiescent(mm.tree().all())).isEmpty();
        SpecMm.assertValid(mm);
    }

    @Test
    void mremapMarksTheSourceAndEndsItWhenItStays() {
        Mm mm = SpecMm.newMm("vma");
        long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        long target = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_NONE, 0);
        mm.write(a, 5);
        Vma source = mm.tree().find(a);
        long seqBefore = VmaSequences.seqOf(source).value();
        mm.mremap(a, 4 * PAGE_SIZE, 4 * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, target);
        Vma stayed = mm.tree().find(a);
        assertThat(stayed.start()).isEqualTo(source.start());
        assertThat(stayed.end()).isEqualTo(source.end());
        if (stayed == source) {
            assertThat(VmaSequences.seqOf(source).value()).as("marked during the move, ended after").isEqualTo(seqBefore + 2);
        } else {
            // The engine replaced the source (DONTUNMAP drops VM_LOCKED and the anon identity): it is retired, odd.
            assertThat(VmaSequences.seqOf(source).isOdd()).as("replaced source stays odd").isTrue();
            assertThat(VmaSequences.seqOf(stayed).isOdd()).isFalse();
        }
        assertThat(mm.read(target)).isEqualTo(5);
        assertThat(mm.read(a)).isZero();
        assertThat(mm.parts().checkQuiescent(mm.tree().all())).isEmpty();
        SpecMm.assertValid(mm);
    }

    @ParameterizedTest
    @ValueSource(strings = {"true", "false"})
    void perMmCountIsOddExactlyWhileTheWriteLockIsHeld(String downgrade) {
        Mm mm = SpecMm.newMm("mm", Map.of("munmapDowngrade", downgrade));
        SeqCount seq = SpecMm.parts(mm).mmSeq();
        long a = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        long afterMmap = seq.value();
        assertThat(afterMmap).isEqualTo(2);
        mm.write(a, 1); // the fallback for vma_noanon takes only the read lock
        assertThat(seq.value()).isEqualTo(afterMmap);
        mm.munmap(a, 4 * PAGE_SIZE);
        assertThat(seq.value()).isEqualTo(afterMmap + 2);
        assertThat(mm.parts().checkQuiescent(mm.tree().all())).isEmpty();
        SpecMm.assertValid(mm);
    }

    @Test
    void seqCountRejectsUnbalancedWrites() {
        SeqCount seq = new SeqCount();
        assertThatThrownBy(seq::writeEnd).isInstanceOf(IllegalStateException.class);
        seq.writeBegin();
        long odd = seq.readBegin();
        assertThat(odd).isOdd();
        assertThatThrownBy(seq::writeBegin).isInstanceOf(IllegalStateException.class);
        assertThat(seq.value()).isEqualTo(odd);
        seq.writeEnd();
        assertThat(seq.validate(2)).isTrue();
        assertThat(seq.validate(0)).isFalse();
    }
}
