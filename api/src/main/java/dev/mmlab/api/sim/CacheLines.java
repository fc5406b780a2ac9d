package dev.mmlab.api.sim;

import dev.mmlab.api.sync.Cost;
import java.util.BitSet;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The shared words of a simulation as cache lines, each owned (modified) by one core or shared clean by
 * several. A write or atomic from a core that does not own the line, and a read of a line another core has
 * modified, move the line: {@link Cost#LINE_TRANSFER}. Transfers of one line serialise: a line moves to one
 * core at a time, so N cores hammering one word wait for each other, which is what stops read-side rwsem
 * acquisition from scaling. Accesses to a line the core already has cost {@link Cost#ATOMIC_LOCAL} or
 * {@link Cost#READ_LOCAL}; a line's first touch is free of transfer (cold misses cost the same in every
 * design and are not modelled).
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Used only by the thread holding its scheduler's baton, so nothing here is
 *       shared between running threads. Lines are keyed by the identity of the object standing for the word
 *       (a {@code Mutex}, a sequence count, a VMA's lock) and live as long as the run's scheduler.</li>
 *   <li><b>Lock order.</b> none: takes no lock.</li>
 *   <li><b>Follows.</b> MESI reduced to what decides who waits: exclusive owner or sharers, and a per-line time
 *       until which the line is busy moving.</li>
 * </ul>
 */
final class CacheLines {
    private static final class Line {
        int owner = -1;
        final BitSet sharers = new BitSet();
        long busyUntil;
        /** The first core that touched it; -2 once a second core has. */
        int onlyCore = -1;
    }

    private final Map<Object, Line> lines = new IdentityHashMap<>();
    private final long atomicLocal;
    private final long readLocal;
    private final long transfer;

    CacheLines(CostProfile profile) {
        this.atomicLocal = profile.nanos(Cost.ATOMIC_LOCAL);
        this.readLocal = profile.nanos(Cost.READ_LOCAL);
        this.transfer = profile.nanos(Cost.LINE_TRANSFER);
    }

    /** Core {@code core} reads or writes {@code key}'s line at time {@code now}; returns when it is done. */
    long access(Object key, int core, boolean write, long now) {
        Line line = lines.computeIfAbsent(key, k -> new Line());
        if (line.onlyCore == -1) {
            line.onlyCore = core;
        } else if (line.onlyCore != core) {
            line.onlyCore = -2;
        }
        if (write) {
            boolean others = line.owner >= 0 && line.owner != core
                    || line.owner < 0 && line.sharers.cardinality() > (line.sharers.get(core) ? 1 : 0);
            line.owner = core;
            line.sharers.clear();
            if (others) {
                return move(line, now);
            }
            // An atomic in progress holds the line: a transfer to another core starts after it.
            line.busyUntil = Math.max(line.busyUntil, Math.max(now, line.busyUntil) + atomicLocal);
            return line.busyUntil;
        }
        if (line.owner == core || line.sharers.get(core)) {
            return now + readLocal;
        }
        if (line.owner >= 0) {
            line.sharers.set(line.owner);
            line.owner = -1;
            line.sharers.set(core);
            return move(line, now);
        }
        line.sharers.set(core);
        return now + readLocal;
    }

    /** Whether a core other than {@code core} has ever touched {@code key}'s line. */
    boolean sharedWithOthers(Object key, int core) {
        Line line = lines.get(key);
        return line != null && line.onlyCore != core && line.onlyCore != -1;
    }

    private long move(Line line, long now) {
        long start = Math.max(now, line.busyUntil);
        line.busyUntil = start + transfer;
        return line.busyUntil;
    }
}
