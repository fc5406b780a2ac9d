package dev.mmlab.api.mem;

import java.util.Collections;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Hands out pages, optionally up to a limit (then allocation fails: the fault returns OOM) and optionally
 * stalling in "direct reclaim" with a given probability and latency (a sleeping wait, as a real
 * allocation that must write back pages would). Thread-safe; may sleep; never takes a lock of an mm.
 *
 * <p>Every live page is tracked so the invariant checker can find leaks.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The limit is kept by {@code reserved}, taken with a CAS before a page
 *       exists and given back when it is freed, so racing allocations never exceed it together. The live set
 *       is a concurrent set; a second free of one page finds it gone and throws. The statistics are atomic
 *       counters. Each thread has its own {@link SplittableRandom}, split from the seeded root under the root's
 *       monitor on first use.</li>
 *   <li><b>Lock order.</b> the root's monitor is a leaf, held for one split; nothing else here is a lock. A
 *       reclaim stall sleeps before the reservation, holding whatever the caller holds: the engine allocates
 *       outside every PTL, so a stall can hold an mm lock but never a PTL.</li>
 * </ul>
 */
public final class PageAllocator {
    private final long limitPages;
    private final double stallProbability;
    private final LatencyModel stallLatency;
    private final Set<Page> live = ConcurrentHashMap.newKeySet();
    /**
     * Pages reserved against the limit: taken before a page exists, given back when it is freed. Only with a
     * limit: one word every allocation of every thread updates would serialise them on its cache line.
     */
    private final AtomicLong reserved = new AtomicLong();
    private final LongAdder allocated = new LongAdder();
    private final LongAdder freed = new LongAdder();
    private final AtomicLong stalls = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final ThreadLocal<SplittableRandom> random;

    /** An allocator without limit or stalls. */
    public PageAllocator() {
        this(0, 0, LatencyModel.none(), 1);
    }

    /**
     * @param limitPages most pages live at once, 0 for no limit
     * @param stallProbability chance that one allocation stalls in reclaim
     * @param stallLatency how long such a stall sleeps
     */
    public PageAllocator(long limitPages, double stallProbability, LatencyModel stallLatency, long seed) {
        if (limitPages < 0 || stallProbability < 0 || stallProbability > 1) {
            throw new IllegalArgumentException("limitPages >= 0 and 0 <= stallProbability <= 1 required");
        }
        this.limitPages = limitPages;
        this.stallProbability = stallProbability;
        this.stallLatency = stallLatency;
        SplittableRandom root = new SplittableRandom(seed);
        this.random = ThreadLocal.withInitial(() -> {
            synchronized (root) {
                return root.split();
            }
        });
    }

    /** A new anonymous page holding {@code content}, with one reference for the caller; null when out of memory. May sleep. */
    public Page allocateAnon(long content) {
        return allocate(Page.Kind.ANON, null, 0, content);
    }

    /** A new page for {@code file}'s cache at {@code index}; null when out of memory. May sleep. */
    public Page allocateFile(BackingFile file, long index, long content) {
        return allocate(Page.Kind.FILE, file, index, content);
    }

    /** A page a driver hands out (PFN-map style); null when out of memory. */
    public Page allocateDevice(long content) {
        return allocate(Page.Kind.DEVICE, null, 0, content);
    }

    private Page allocate(Page.Kind kind, BackingFile file, long index, long content) {
        if (stallProbability > 0 && random.get().nextDouble() < stallProbability) {
            stalls.incrementAndGet();
            stallLatency.sleep(random.get());
        }
        if (limitPages > 0 && !reserve()) {
            failures.incrementAndGet();
            return null;
        }
        Page page = new Page(this, kind, file, index, content);
        live.add(page);
        allocated.increment();
        return page;
    }

    /** Reserve a page against the limit, with a CAS, so that racing allocations never exceed it together. */
    private boolean reserve() {
        long now;
        do {
            now = reserved.get();
            if (now >= limitPages) {
                return false;
            }
        } while (!reserved.compareAndSet(now, now + 1));
        return true;
    }

    void free(Page page) {
        if (!live.remove(page)) {
            throw new IllegalStateException("double free of " + page);
        }
        freed.increment();
        if (limitPages > 0) {
            reserved.decrementAndGet();
        }
    }

    /** Pages allocated and not yet freed (a snapshot view). */
    public Set<Page> livePages() {
        return Collections.unmodifiableSet(live);
    }

    public long allocatedCount() {
        return allocated.sum();
    }

    public long freedCount() {
        return freed.sum();
    }

    public long stallCount() {
        return stalls.get();
    }

    public long failureCount() {
        return failures.get();
    }

    public long limitPages() {
        return limitPages;
    }
}
