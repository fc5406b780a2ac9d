package dev.mmlab.bench.scenario;

import dev.mmlab.api.Linux;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.api.mm.Mm;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * What a scenario's {@link Scenario#setup} works with: the run's address space, its parameters, a seeded
 * random source, private address arenas and files. Used on the runner's thread only, before workers start.
 *
 * <p>Arenas: every region a thread owns lives at a fixed address in its own 2 MiB-aligned arena followed by a
 * 2 MiB hole, so no two threads share a VMA, a merge neighbour or a page-table page. That is what makes a
 * scenario disjoint, and it keeps runs deterministic (no search for a free gap).
 */
public final class ScenarioContext {
    /** Arenas start at 16 TiB: far above brk and far below the top-down mmap area. */
    static final long ARENA_BASE = 0x1000_0000_0000L;

    private final Mm mm;
    private final ScenarioParams params;
    private final long seed;
    private final SplittableRandom random;
    private final List<BackingFile> files = new ArrayList<>();
    private long nextArena = ARENA_BASE;
    private long nextInode = 100;

    public ScenarioContext(Mm mm, ScenarioParams params, long seed) {
        this.mm = mm;
        this.params = params;
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    public Mm mm() {
        return mm;
    }

    public ScenarioParams params() {
        return params;
    }

    public long seed() {
        return seed;
    }

    /** A new independent random source (one per worker, so threads never share one). */
    public SplittableRandom random() {
        return random.split();
    }

    /** A fresh private arena of at least {@code bytes}, 2 MiB aligned, with a 2 MiB hole after it. */
    public long arena(long bytes) {
        long base = nextArena;
        long span = (Linux.pageAlign(bytes) + Linux.PMD_SIZE - 1) / Linux.PMD_SIZE * Linux.PMD_SIZE;
        nextArena = base + Math.max(span, Linux.PMD_SIZE) + Linux.PMD_SIZE;
        return base;
    }

    /** A regular file of {@code bytes} on a device with {@code latency}; its page cache starts cold. */
    public BackingFile file(String name, long bytes, LatencyModel latency) {
        BlockDevice device = new BlockDevice(name + "-dev", 8, files.size() + 1, latency, 0, seed + files.size());
        BackingFile f = BackingFile.regular("/data/" + name, nextInode++, Linux.pageAlign(bytes), device,
                mm.allocator());
        files.add(f);
        return f;
    }

    /** Files made by this context (their page caches may hold pages nothing maps). */
    public List<BackingFile> files() {
        return Collections.unmodifiableList(files);
    }
}
