package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.argThat;
import static org.mockito.Mockito.*;

import dev.mmlab.api.LockNeed;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.testing.CoarseTestStrategy;
import org.junit.jupiter.api.Test;
import org.mockito.stubbing.Answer;

/** A driver's close runs exactly once per VMA that goes away, under the lock it declared. */
class VmOpsCallbackTest {
    static final long A = 0x7f0000100000L;
    static final long P = PAGE_SIZE;

    private static VmOps legacyDriver() {
        VmOps ops = mock(VmOps.class);
        when(ops.name()).thenReturn("legacy");
        when(ops.lockNeed(any())).thenAnswer(inv -> inv.getArgument(0) == VmOpsCallback.FAULT
                ? LockNeed.COARSE_READ : LockNeed.COARSE_WRITE);
        when(ops.mmap(any(), any())).thenAnswer(inv -> ((Vma) inv.getArgument(1)).flags());
        Answer<Void> assertsWriteLocked = inv -> {
            ((VmOpsContext) inv.getArgument(0)).assertWriteLocked();
            return null;
        };
        doAnswer(assertsWriteLocked).when(ops).close(any(), any());
        doAnswer(assertsWriteLocked).when(ops).open(any(), any());
        return ops;
    }

    @Test
    void closeRunsOncePerVmaUnderTheWriteLock() {
        Mm mm = CoarseTestStrategy.newMm();
        VmOps ops = legacyDriver();
        mm.mmapDriver(A, 4 * P, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, ops, 0);
        // Split: the middle page goes, the two outer pieces are new VMAs (open), the middle one closes.
        mm.munmap(A + P, P);
        verify(ops, times(1)).close(any(), argThat(v -> v.start() == A + P && v.end() == A + 2 * P));
        verify(ops, times(2)).open(any(), any());
        mm.munmap(A, 4 * P);
        verify(ops, times(1)).close(any(), argThat(v -> v.start() == A && v.end() == A + P));
        verify(ops, times(1)).close(any(), argThat(v -> v.start() == A + 2 * P && v.end() == A + 4 * P));
        verify(ops, times(3)).close(any(), any());
        assertThat(mm.counters().get("driver.legacy.assert_failed")).isZero();
        assertThat(mm.counters().get("driver.legacy.assert")).isEqualTo(5);
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    @Test
    void exitClosesEveryDriverVmaOnce() {
        Mm mm = CoarseTestStrategy.newMm();
        VmOps ops = legacyDriver();
        mm.mmapDriver(A, 2 * P, PROT_READ, MAP_SHARED | MAP_FIXED, ops, 0);
        mm.mmapDriver(A + 4 * P, 2 * P, PROT_READ, MAP_SHARED | MAP_FIXED, ops, 0);
        mm.exit();
        verify(ops, times(2)).close(any(), any());
        verify(ops, never()).open(any(), any());
    }

    @Test
    void mmapFixedOverADriverVmaClosesIt() {
        Mm mm = CoarseTestStrategy.newMm();
        VmOps ops = legacyDriver();
        mm.mmapDriver(A, 2 * P, PROT_READ, MAP_SHARED | MAP_FIXED, ops, 0);
        mm.mmapAnon(A, 2 * P, PROT_READ, MAP_FIXED);
        verify(ops, times(1)).close(any(), any());
        assertThat(mm.tree().find(A).ops()).isNull();
    }
}
