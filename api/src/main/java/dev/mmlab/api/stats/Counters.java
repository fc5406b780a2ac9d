package dev.mmlab.api.stats;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Named event counters shared by the engine and the strategy of one address space ({@code mmap.ok},
 * {@code fault.MAPPED}, {@code pervma.abort}, ...). Thread-safe and cheap to increment from many threads.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> A concurrent map from name to {@link LongAdder}; a counter is created once
 *       by {@code computeIfAbsent} and then only added to, so increments on different cells do not contend.</li>
 *   <li><b>Lock order.</b> none: takes no lock of its own and calls nothing; counted under any lock, a PTL
 *       included.</li>
 *   <li><b>What a reader may see mid-update.</b> {@link #get} and the snapshots sum adders that may be moving:
 *       each value is one that was true at some point during the read, and two counters in one snapshot are
 *       not read at one instant. {@link #reset} racing an increment may keep or lose it. Exact only at a
 *       quiescent point.</li>
 * </ul>
 */
public final class Counters {
    private final ConcurrentHashMap<String, LongAdder> counters = new ConcurrentHashMap<>();

    public void increment(String name) {
        add(name, 1);
    }

    public void add(String name, long delta) {
        counters.computeIfAbsent(name, k -> new LongAdder()).add(delta);
    }

    public long get(String name) {
        LongAdder a = counters.get(name);
        return a == null ? 0 : a.sum();
    }

    /** A sorted snapshot. */
    public Map<String, Long> snapshot() {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    /** A sorted snapshot of counters whose name starts with {@code prefix}. */
    public Map<String, Long> snapshot(String prefix) {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k, v.sum());
            }
        });
        return out;
    }

    public void reset() {
        counters.values().forEach(LongAdder::reset);
    }
}
