package dev.mmlab.it.drivers;

import static dev.mmlab.api.Linux.MAP_FIXED;
import static dev.mmlab.api.Linux.MAP_SHARED;
import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PROT_READ;
import static dev.mmlab.api.Linux.PROT_WRITE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.mmlab.api.Access;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.Vma;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mm.Mm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.mockito.ArgumentCaptor;

/**
 * The engine's promise to a driver, checked with a Mockito VmOps under every strategy: {@code close} runs
 * exactly once for every VMA of the driver that goes away (munmap, split, exit), and always under the lock
 * the driver declared for it.
 *
 * <p>The driver's view is Linux's: mmap creates one VMA; a split creates new VMAs with {@code open} (the
 * original shrinks and keeps its identity), so the driver cannot see VMA objects, only ranges. The mock keeps
 * the ranges it was told about: {@code open} carves a piece out of a live range, {@code close} must name
 * exactly a live range and removes it. After every syscall the live ranges must be the driver's VMAs in the
 * tree; after exit, none; and {@code close} ran once per mmap plus once per open.
 */
class DriverCloseContractTest {
    static final long AT = 0x50000000L;

    static List<StrategyCase> strategies() {
        return StrategyCase.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("strategies")
    void closeRunsOncePerVmaUnderItsDeclaredLock(StrategyCase s) {
        for (LockNeed declared : LockNeed.values()) {
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> run(s, declared));
        }
    }

    private void run(StrategyCase s, LockNeed declaredClose) {
        VmOps ops = mock(VmOps.class);
        when(ops.name()).thenReturn("mock-" + declaredClose.name().toLowerCase(Locale.ROOT));
        when(ops.lockNeed(any())).thenAnswer(inv ->
                inv.getArgument(0) == VmOpsCallback.CLOSE ? declaredClose : LockNeed.FINE);
        when(ops.mmap(any(), any())).thenAnswer(inv -> ((Vma) inv.getArgument(1)).flags());
        when(ops.fault(any(), any(), anyLong(), any())).thenAnswer(inv ->
                TestDrivers.devicePage(inv.getArgument(0), 3));
        TreeMap<Long, Long> live = new TreeMap<>();
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        doAnswer(inv -> {
            Vma v = inv.getArgument(1);
            synchronized (live) {
                Map.Entry<Long, Long> r = live.floorEntry(v.start());
                if (r == null || r.getValue() < v.end()) {
                    problems.add("open of " + v + " outside every live VMA " + live);
                    return null;
                }
                live.remove(r.getKey());
                putIfNotEmpty(live, r.getKey(), v.start());
                live.put(v.start(), v.end());
                putIfNotEmpty(live, v.end(), r.getValue());
            }
            return null;
        }).when(ops).open(any(), any());
        doAnswer(inv -> {
            VmOpsContext ctx = inv.getArgument(0);
            Vma v = inv.getArgument(1);
            if (!ctx.held().satisfies(declaredClose)) {
                problems.add("close of " + v + " under " + ctx.held() + ", declared " + declaredClose);
            }
            synchronized (live) {
                Long end = live.get(v.start());
                if (end == null || end != v.end()) {
                    problems.add("close of " + v + " which is not a live VMA (twice?) " + live);
                } else {
                    live.remove(v.start());
                }
            }
            return null;
        }).when(ops).close(any(), any());

        Mm mm = s.newMm();
        long at = mm.mmapDriver(AT, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, ops, 0);
        synchronized (live) {
            live.put(at, at + 16 * PAGE_SIZE);
        }
        List<Runnable> steps = List.of(
                () -> mm.fault(AT, Access.WRITE),
                () -> mm.munmap(AT + 4 * PAGE_SIZE, PAGE_SIZE),
                () -> mm.mprotect(AT + 8 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ),
                () -> mm.mprotect(AT + 8 * PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE),
                () -> mm.munmap(AT, 2 * PAGE_SIZE),
                () -> mm.munmap(AT + 12 * PAGE_SIZE, 8 * PAGE_SIZE));
        for (Runnable step : steps) {
            step.run();
            assertThat(problems).isEmpty();
            assertThat(driverRanges(mm, ops)).isEqualTo(snapshot(live));
        }
        mm.exit();
        assertThat(problems).isEmpty();
        assertThat(snapshot(live)).as("VMAs never closed").isEmpty();
        ArgumentCaptor<Vma> opened = ArgumentCaptor.forClass(Vma.class);
        verify(ops, atLeastOnce()).open(any(), opened.capture());
        verify(ops, times(1 + opened.getAllValues().size())).close(any(), any());
        assertThat(InvariantChecker.check(mm)).isEmpty();
    }

    private static void putIfNotEmpty(Map<Long, Long> live, long start, long end) {
        if (start < end) {
            live.put(start, end);
        }
    }

    private static Map<Long, Long> snapshot(TreeMap<Long, Long> live) {
        synchronized (live) {
            return new TreeMap<>(live);
        }
    }

    private static Map<Long, Long> driverRanges(Mm mm, VmOps ops) {
        Map<Long, Long> out = new TreeMap<>();
        for (Vma v : mm.tree().all()) {
            if (v.ops() == ops) {
                out.put(v.start(), v.end());
            }
        }
        return out;
    }
}
