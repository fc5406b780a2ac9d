package dev.mmlab.bench.calibrate;

import static dev.mmlab.api.Linux.MADV_DONTNEED;
import static dev.mmlab.api.Linux.MAP_FIXED;
import static dev.mmlab.api.Linux.MAP_POPULATE;
import static dev.mmlab.api.Linux.MAP_PRIVATE;
import static dev.mmlab.api.Linux.MAP_SHARED;
import static dev.mmlab.api.Linux.PAGE_SIZE;
import static dev.mmlab.api.Linux.PMD_SIZE;
import static dev.mmlab.api.Linux.PROT_READ;
import static dev.mmlab.api.Linux.PROT_WRITE;

import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.bench.scenario.ScenarioContext;
import dev.mmlab.bench.scenario.ScenarioParams;
import dev.mmlab.bench.scenario.Workloads;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One single-threaded workload the model probe times on the engine: an untimed setup in a fresh address space
 * that returns the part to time. Together they exercise every engine step a scenario pays for, in different
 * mixes, so that a fit can tell the steps apart (a syscall alone, mmap + munmap, a split; faults among few
 * VMAs and among many, so that a lookup level is not just part of a fault).
 *
 * @param name short name, for the profile's header
 * @param setup makes what the workload needs in the given context and returns the timed part
 */
record EngineWorkload(String name, Function<ScenarioContext, Runnable> setup) {
    /** VMAs of the workloads that need many: enough that a lookup, a /proc line and a fork copy show. */
    static final int MANY_VMAS = 2000;

    /** A fresh address space and its context (arenas, files) for one run of a workload. */
    static ScenarioContext freshContext() {
        return new ScenarioContext(ProbeAddressSpace.create(), ScenarioParams.of("calibrate", List.of(), Map.of()), 1);
    }

    /** The workloads, sized by {@code pages}: the pages a fault workload touches. */
    static List<EngineWorkload> all(int pages) {
        long bytes = (long) pages * PAGE_SIZE;
        int sparse = Math.max(8, pages / 8);
        int calls = Math.max(16, pages / 16);
        return List.of(
                new EngineWorkload("anon-write", ctx -> writeEach(ctx.mm(), anon(ctx, bytes, 0), bytes, PAGE_SIZE)),
                new EngineWorkload("anon-read", ctx -> readEach(ctx.mm(), anon(ctx, bytes, 0), bytes)),
                new EngineWorkload("anon-write-sparse", ctx -> {
                    long span = sparse * PMD_SIZE;
                    return writeEach(ctx.mm(), anon(ctx, span, 0), span, PMD_SIZE);
                }),
                new EngineWorkload("anon-write-among-vmas", ctx -> {
                    Workloads.backgroundVmas(ctx, MANY_VMAS);
                    return writeEach(ctx.mm(), anon(ctx, bytes, 0), bytes, PAGE_SIZE);
                }),
                new EngineWorkload("cow-after-fork", ctx -> {
                    long base = anon(ctx, bytes, MAP_POPULATE);
                    Mm child = ctx.mm().fork();
                    return writeEach(child, base, bytes, PAGE_SIZE);
                }),
                new EngineWorkload("file-shared-write", ctx -> writeEach(ctx.mm(), cachedFile(ctx, bytes, MAP_SHARED), bytes,
                        PAGE_SIZE)),
                new EngineWorkload("file-private-write", ctx -> writeEach(ctx.mm(), cachedFile(ctx, bytes, MAP_PRIVATE), bytes,
                        PAGE_SIZE)),
                new EngineWorkload("mmap-munmap", ctx -> {
                    Mm mm = ctx.mm();
                    long region = 128L << 20;
                    long at = ctx.arena(region);
                    return () -> {
                        for (int i = 0; i < calls; i++) {
                            mm.munmap(mm.mmapAnon(at, region, PROT_READ | PROT_WRITE, MAP_FIXED), region);
                        }
                    };
                }),
                new EngineWorkload("munmap-nothing", ctx -> {
                    Mm mm = ctx.mm();
                    long at = ctx.arena(PMD_SIZE);
                    return () -> {
                        for (int i = 0; i < calls; i++) {
                            mm.munmap(at, PMD_SIZE);
                        }
                    };
                }),
                new EngineWorkload("munmap-populated", ctx -> {
                    long base = anon(ctx, bytes, MAP_POPULATE);
                    return () -> ctx.mm().munmap(base, bytes);
                }),
                new EngineWorkload("munmap-sparse", ctx -> {
                    long span = sparse * PMD_SIZE;
                    long base = anon(ctx, span, 0);
                    writeEach(ctx.mm(), base, span, PMD_SIZE).run();
                    return () -> ctx.mm().munmap(base, span);
                }),
                new EngineWorkload("mprotect-split", ctx -> {
                    // Map three pages, make the middle one read-only (two splits), unmap: few VMAs at any time,
                    // as in the scenarios, so that a tree publish costs what it costs them.
                    Mm mm = ctx.mm();
                    long at = ctx.arena(3 * PAGE_SIZE);
                    return () -> {
                        for (int i = 0; i < calls; i++) {
                            mm.mmapAnon(at, 3 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
                            mm.mprotect(at + PAGE_SIZE, PAGE_SIZE, PROT_READ);
                            mm.munmap(at, 3 * PAGE_SIZE);
                        }
                    };
                }),
                new EngineWorkload("proc-maps", ctx -> {
                    Workloads.backgroundVmas(ctx, MANY_VMAS);
                    Mm mm = ctx.mm();
                    return () -> {
                        for (int i = 0; i < 4; i++) {
                            mm.procMaps();
                        }
                    };
                }),
                new EngineWorkload("fork-vmas", ctx -> {
                    Workloads.backgroundVmas(ctx, MANY_VMAS);
                    return ctx.mm()::fork;
                }),
                new EngineWorkload("fork-pages", ctx -> {
                    anon(ctx, bytes, MAP_POPULATE);
                    return ctx.mm()::fork;
                }));
    }

    /** A new anonymous read-write region of {@code bytes} in its own arena. */
    private static long anon(ScenarioContext ctx, long bytes, int flags) {
        return ctx.mm().mmapAnon(ctx.arena(bytes), bytes, PROT_READ | PROT_WRITE, MAP_FIXED | flags);
    }

    /**
     * A mapping ({@code MAP_SHARED} or {@code MAP_PRIVATE}) of a file whose pages are all in the page cache:
     * read once through another mapping, which is then unmapped.
     */
    private static long cachedFile(ScenarioContext ctx, long bytes, int type) {
        Mm mm = ctx.mm();
        BackingFile file = ctx.file("calibrate", bytes, LatencyModel.none());
        long warm = mm.mmap(ctx.arena(bytes), bytes, PROT_READ, MAP_SHARED | MAP_FIXED, OpenFile.readWrite(file), 0);
        readEach(mm, warm, bytes).run();
        mm.madvise(warm, bytes, MADV_DONTNEED);
        mm.munmap(warm, bytes);
        return mm.mmap(ctx.arena(bytes), bytes, PROT_READ | PROT_WRITE, type | MAP_FIXED, OpenFile.readWrite(file), 0);
    }

    private static Runnable writeEach(Mm mm, long base, long bytes, long stride) {
        return () -> {
            for (long a = base; a < base + bytes; a += stride) {
                mm.write(a, a);
            }
        };
    }

    private static Runnable readEach(Mm mm, long base, long bytes) {
        return () -> {
            for (long a = base; a < base + bytes; a += PAGE_SIZE) {
                mm.read(a);
            }
        };
    }
}
