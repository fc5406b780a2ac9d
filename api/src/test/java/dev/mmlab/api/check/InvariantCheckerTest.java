package dev.mmlab.api.check;

import static dev.mmlab.api.Linux.*;
import static dev.mmlab.api.VmFlags.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.LockIntent;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import dev.mmlab.api.check.Violation.Rule;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.api.testing.CoarseTestStrategy;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Each invariant broken on purpose, and the checker naming exactly that rule. */
class InvariantCheckerTest {
    static final long A = 0x7f0000100000L;
    static final long P = PAGE_SIZE;
    static final long FLAGS = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;

    Mm mm;

    @BeforeEach
    void setUp() {
        mm = CoarseTestStrategy.newMm();
    }

    private List<Rule> rules() {
        return InvariantChecker.check(mm).stream().map(Violation::rule).toList();
    }

    private static Vma anon(long start, long end, long flags) {
        return new Vma(start, end, flags, start >>> PAGE_SHIFT, null, null, null, null);
    }

    @Test
    void cleanAddressSpacePasses() {
        long a = mm.mmapAnon(0, 4 * P, PROT_READ | PROT_WRITE, 0);
        mm.write(a, 1);
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @Test
    void overlappingVmas() {
        List<Vma> vmas = List.of(anon(A, A + 2 * P, FLAGS), anon(A + P, A + 3 * P, FLAGS | VM_EXEC));
        List<Violation> out = new java.util.ArrayList<>();
        InvariantChecker.checkLayout(vmas, out);
        assertThat(out).extracting(Violation::rule).containsExactly(Rule.VMA_LAYOUT);
        assertThat(out.get(0).detail()).contains("overlap");
    }

    @Test
    void vmaOutsideUserSpace() {
        insertBehindTheEngine(List.of(anon(TASK_SIZE, TASK_SIZE + P, FLAGS)));
        assertThat(rules()).containsExactly(Rule.VMA_LAYOUT);
    }

    @Test
    void unalignedVmasCannotBeBuilt() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> anon(A + 1, A + P, FLAGS))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void detachedVmaInTheTree() {
        Vma v = anon(A, A + P, FLAGS);
        v.markDetached();
        insertBehindTheEngine(List.of(v));
        assertThat(rules()).containsExactly(Rule.VMA_LAYOUT);
    }

    @Test
    void nonCanonicalAdjacentVmas() {
        insertBehindTheEngine(List.of(anon(A, A + P, FLAGS), anon(A + P, A + 2 * P, FLAGS)));
        assertThat(rules()).containsExactly(Rule.VMA_CANONICAL);
    }

    @Test
    void pteOutsideAnyVma() {
        Page p = mm.allocator().allocateAnon(1);
        PteTable t = mm.pageTables().allocate(A);
        t.ptl().lock();
        try {
            t.install(A, p, PteTable.READ);
        } finally {
            t.ptl().unlock();
        }
        assertThat(rules()).containsExactly(Rule.PTE);
    }

    @Test
    void writablePteInAReadOnlyVma() {
        long a = mm.mmapAnon(0, P, PROT_READ, 0);
        PteTable t = mm.pageTables().allocate(a);
        t.ptl().lock();
        try {
            t.install(a, mm.allocator().allocateAnon(1), PteTable.READ | PteTable.WRITE);
        } finally {
            t.ptl().unlock();
        }
        assertThat(rules()).containsExactly(Rule.PTE);
    }

    @Test
    void refcountOffByOne() {
        long a = mm.mmapAnon(0, P, PROT_READ, 0);
        mm.mprotect(a, P, PROT_READ | PROT_WRITE);
        mm.write(a, 1);
        mm.mprotect(a, P, PROT_READ);
        PteTable t = mm.pageTables().lookup(a);
        t.ptl().lock();
        try {
            t.page(a).get();
        } finally {
            t.ptl().unlock();
        }
        assertThat(rules()).containsExactly(Rule.REFCOUNT);
    }

    @Test
    void leakedPage() {
        mm.allocator().allocateAnon(1);
        assertThat(rules()).containsExactly(Rule.LEAK);
    }

    @Test
    void lockLeftHeld() {
        MmLockGuard guard = mm.mmLock().lock(LockIntent.coarse(OpKind.MMAP, LockIntent.Mode.READ, 0, P));
        assertThat(rules()).containsExactly(Rule.LOCK);
        guard.close();
        assertThat(rules()).isEmpty();
    }

    /** Put VMAs straight into the tree, as a buggy engine or strategy would, under the whole-space write lock. */
    private void insertBehindTheEngine(List<Vma> vmas) {
        try (MmLockGuard g = mm.mmLock().lock(LockIntent.coarse(OpKind.MMAP, LockIntent.Mode.WRITE, 0, TASK_SIZE))) {
            mm.tree().replace(g, List.of(), vmas);
        }
    }
}
