package dev.mmlab.bench.replay;

import dev.mmlab.api.OpKind;
import dev.mmlab.bench.replay.ReplayScript.Image;
import dev.mmlab.bench.replay.ReplayScript.Step;
import dev.mmlab.bench.replay.ReplayScript.SyscallStep;
import dev.mmlab.bench.trace.MmapLockEvent;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How the kernel took the mmap_lock in a recorded trace, per operation kind: the successful
 * {@code mmap_lock_acquire_returned} events, each counted for read or write under the step {@link ReplayScript}
 * attached it to (a traced syscall, or a fault that fell back from the per-VMA lock), or under {@code exec} for
 * the grants of an exec's setup ({@link ReplayScript.Image#execLockEvents()}: the mappings execve makes, which the
 * model replays as {@code exec} too). Kinds are named as the strategies' {@code lockUse} names them, so the two
 * can be set side by side.
 *
 * <p>Unlike {@code lockUse}, which counts operations by their strongest hold, this counts acquisitions: a syscall
 * that took the lock twice counts twice. Failed attempts (a trylock, a killed wait) are not counted, nor is the read
 * grant {@code mmap_write_downgrade()} traces while the write lock is held (munmap, mremap, brk). A fork
 * prefix's steps are the parent's, so they are left out, as the replay's results leave them out.
 */
public final class KernelLockUse {
    private static final Map<String, OpKind> OP_KIND_BY_SYSCALL = Map.ofEntries(
            Map.entry("mmap", OpKind.MMAP),
            Map.entry("munmap", OpKind.MUNMAP),
            Map.entry("mprotect", OpKind.MPROTECT),
            Map.entry("pkey_mprotect", OpKind.MPROTECT),
            Map.entry("brk", OpKind.BRK),
            Map.entry("madvise", OpKind.MADVISE),
            Map.entry("mremap", OpKind.MREMAP),
            Map.entry("mlock", OpKind.MLOCK),
            Map.entry("mlock2", OpKind.MLOCK),
            Map.entry("mlockall", OpKind.MLOCK),
            Map.entry("munlock", OpKind.MUNLOCK),
            Map.entry("munlockall", OpKind.MUNLOCK),
            Map.entry("execve", OpKind.EXEC),
            Map.entry("execveat", OpKind.EXEC));

    private final boolean recorded;
    private final Map<String, Map<String, Long>> counts;

    private KernelLockUse(boolean recorded, Map<String, Map<String, Long>> counts) {
        this.recorded = recorded;
        this.counts = counts;
    }

    /** The kernel's acquisitions in {@code script}'s images. */
    public static KernelLockUse of(ReplayScript script) {
        boolean recorded = false;
        Map<String, Map<String, Long>> counts = new TreeMap<>();
        for (Image image : script.images()) {
            recorded |= count(image.execLockEvents(), OpKind.EXEC.label(), counts);
            for (Step step : image.steps()) {
                recorded |= count(step.lockEvents(), opKind(step), counts);
            }
        }
        counts.replaceAll((op, row) -> Collections.unmodifiableMap(row));
        return new KernelLockUse(recorded, Collections.unmodifiableMap(counts));
    }

    /** Counts {@code events}' grants under {@code op}; returns whether there were any events. */
    private static boolean count(List<MmapLockEvent> events, String op, Map<String, Map<String, Long>> counts) {
        boolean writeHeld = false;
        for (MmapLockEvent e : events) {
            if (e.kind() == MmapLockEvent.Kind.RELEASED) {
                writeHeld = false;
            } else if (e.granted()) {
                // mmap_write_downgrade() traces a read grant while the write lock is held: not a new acquisition.
                if (!(writeHeld && !e.write())) {
                    counts.computeIfAbsent(op, k -> newRow()).merge(e.write() ? "write" : "read", 1L, Long::sum);
                }
                writeHeld = e.write();
            }
        }
        return !events.isEmpty();
    }

    /** Whether the trace had mmap_lock events for the replayed process (otherwise there is nothing to compare). */
    public boolean recorded() {
        return recorded;
    }

    /** Operation kind ({@code mmap}, {@code fault}, ...) to {@code read} and {@code write} acquisitions, sorted. */
    public Map<String, Map<String, Long>> counts() {
        return counts;
    }

    private static String opKind(Step step) {
        if (step instanceof SyscallStep s) {
            OpKind kind = OP_KIND_BY_SYSCALL.get(s.event().name());
            return kind == null ? s.event().name() : kind.label();
        }
        return OpKind.FAULT.label();
    }

    private static Map<String, Long> newRow() {
        Map<String, Long> row = new LinkedHashMap<>();
        row.put("read", 0L);
        row.put("write", 0L);
        return row;
    }
}
