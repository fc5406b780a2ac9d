package dev.mmlab.pervma;

import dev.mmlab.api.LockIntent;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Vma;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Who holds VMA read locks in one address space, for wait attribution and the lock-order check. Thread-safe.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What it is for.</b> A {@code VmaLock} knows how many readers it has, not who they are. A writer that
 *       has to wait in {@code vma_start_write} must say who it waits for, so the lock-wait recorder can tell a
 *       true conflict (the fault's page is inside the writer's range) from a false one (the writer splits the
 *       VMA far from the faulting page: the price of VMA-granular locking). It also serves the lock-order
 *       check: a thread must not take the mmap lock while it holds a VMA read lock.</li>
 *   <li><b>What protects what.</b> No lock: one slot per thread that ever read-locked a VMA of this mm,
 *       registered once in a copy-on-write list; a slot is written only by its own thread, which writes its
 *       footprint, then the VMA (volatile), and clears the VMA when it unlocks. A writer scans the slots. Slots
 *       of threads that died stay in the list (a handful per worker pool; an mm lives as long as its test or
 *       benchmark run).</li>
 *   <li><b>Lock order.</b> none of its own; it records the rule mmap lock &rarr; VMA lock, never the reverse.
 *       {@code enter} and {@code exit} run inside the VMA read lock they describe, {@code holdersOf} under the
 *       mmap write lock of the writer that waits; none of them blocks.</li>
 *   <li><b>What a reader may see mid-update.</b> A slot may be read mid-update: it then names a reader a little
 *       early or late, which only affects whom a wait is attributed to, never whether anyone waits.</li>
 *   <li><b>One VMA per thread at a time.</b> A fault holds one, a /proc walker holds one. A nested read lock
 *       (not a path the engine has) is simply not registered.</li>
 * </ul>
 */
final class VmaReaders {
    /** What one thread holds. Written by its thread only. */
    static final class Slot {
        /** The thread this slot belongs to (slots are made by their own thread). */
        private final Thread owner = Thread.currentThread();
        private volatile Vma vma;
        private volatile OpKind op;
        private volatile long start;
        private volatile long end;
    }

    private final List<Slot> slots = new CopyOnWriteArrayList<>();
    private final ThreadLocal<Slot> mine = ThreadLocal.withInitial(this::register);

    private Slot register() {
        Slot s = new Slot();
        slots.add(s);
        return s;
    }

    /**
     * The calling thread has just read-locked {@code vma} for {@code op} with footprint {@code [start, end)}.
     * Returns the slot to pass to {@link #exit}, or null when the thread already holds a VMA (not recorded).
     * Never blocks.
     */
    Slot enter(Vma vma, OpKind op, long start, long end) {
        Slot s = mine.get();
        if (s.vma != null) {
            return null;
        }
        s.op = op;
        s.start = start;
        s.end = end;
        s.vma = vma;
        return s;
    }

    /** The thread that entered {@code slot} is about to drop its VMA read lock. Null is ignored. */
    static void exit(Slot slot) {
        if (slot != null) {
            slot.vma = null;
        }
    }

    /** The calling thread drops its read lock of {@code vma} (entered with {@link #enter}). Never blocks. */
    void exitCurrent(Vma vma) {
        Slot s = mine.get();
        if (s.vma == vma) {
            s.vma = null;
        }
    }

    /** Whether the calling thread holds a VMA read lock of this mm. Never blocks. */
    boolean currentThreadHoldsVma() {
        return mine.get().vma != null;
    }

    /**
     * The readers of {@code vma} now, as intents with their true footprints (synthesised: a reader's own
     * intent is not kept, to keep the fault path free of allocation). Any thread; a snapshot.
     */
    List<LockIntent> holdersOf(Vma vma) {
        List<LockIntent> out = new ArrayList<>(2);
        for (Slot s : slots) {
            if (s.vma == vma) {
                OpKind op = s.op;
                long start = s.start;
                long end = s.end;
                if (op != null && start < end) {
                    out.add(LockIntent.of(op, LockIntent.Mode.READ, start, end).withTask(s.owner));
                }
            }
        }
        return out;
    }
}
