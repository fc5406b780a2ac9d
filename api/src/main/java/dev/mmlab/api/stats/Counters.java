package dev.mmlab.api.stats;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Named event counters shared by the engine and the strategy of one address space ({@code mmap.ok},
 * {@code fault.MAPPED}, {@code pervma.abort}, ...). Thread-safe and cheap to increment from many threads.
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
