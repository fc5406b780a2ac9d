package dev.mmlab.bench.scenario;

import static dev.mmlab.bench.scenario.ParamDef.bool;
import static dev.mmlab.bench.scenario.ParamDef.integer;
import static dev.mmlab.bench.scenario.ParamDef.latency;
import static dev.mmlab.bench.scenario.ParamDef.probability;
import static dev.mmlab.bench.scenario.ParamDef.size;

import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.PageAllocator;
import dev.mmlab.api.mm.MmConfig;
import java.util.List;

/**
 * The scenarios of the talk and of the kernel's own benchmarks. Role and operation names are part of the JSON
 * contract. Every thread works in its own arena ({@link ScenarioContext#arena}), so every built-in scenario
 * but {@code proc-scan}, {@code fork-storm} and {@code fault-vs-mmap adjacent=true} is disjoint.
 */
public final class BuiltinScenarios {
    private BuiltinScenarios() {}

    /** Every built-in scenario, in the order {@code list} shows them. */
    public static List<Scenario> all() {
        return List.of(slowFileFault(), procScan(), bigMunmap(), faultVsMmap(), threadSpawn(), reclaimStall(),
                gupSlow(), pageFault("page-fault1", Workloads.Backing.ANON, "anonymous"),
                pageFault("page-fault2", Workloads.Backing.PRIVATE_FILE, "a private file mapping"),
                pageFault("page-fault3", Workloads.Backing.SHARED_FILE, "a shared file mapping"), pft(), mmap1(), spfTest(),
                forkStorm(), contendedRange());
    }

    static Scenario contendedRange() {
        return new BaseScenario("contended-range",
                "for 'mmlab check': every thread maps, unmaps, protects, zaps and faults the same few pages, so only "
                        + "the locks keep the address space consistent",
                "workers", List.of(integer("workers", 3, "threads, all on the one range"),
                        integer("pages", 8, "pages in the range"))) {
            @Override
            public boolean disjoint(ScenarioParams params) {
                return false;
            }

            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                return List.of(new Role("workers", p.integer("workers"), Workloads.contendedRange(ctx, p.integer("pages"))));
            }
        };
    }

    static Scenario slowFileFault() {
        return new BaseScenario("slow-file-fault",
                "Lespinasse 2010, the fault-retry benchmark: an mmap/munmap loop beside a thread faulting on a slow disk, 55 -> 15,000 iterations/s",
                "faulters", List.of(integer("reader", 1, "threads faulting random pages of a cold file"),
                        integer("mapper", 1, "threads looping mmap + touch + munmap"),
                        integer("faulters", 1, "threads faulting their own anon regions"),
                        latency("latency", "5ms", "device read latency (a sleeping wait; a 2010 disk seek)"),
                        size("fileSize", "64m", "size of the file the reader faults in"),
                        size("mapperRegion", "64k", "region the mapper maps per iteration"),
                        size("faultRegion", "2m", "each faulter's region"))) {
            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                BackingFile file = ctx.file("slow-file", p.size("fileSize"), p.latency("latency"));
                return List.of(new Role("reader", p.integer("reader"), Workloads.coldFileReader(ctx, file)),
                        new Role("mapper", p.integer("mapper"), Workloads.mapperLoop(ctx, p.size("mapperRegion"), false)),
                        new Role("faulters", p.integer("faulters"), Workloads.faultLoop(ctx, p.size("faultRegion"), false)));
            }
        };
    }

    static Scenario procScan() {
        return new BaseScenario("proc-scan",
                "McKenney's proc-mmap_sem-test: /proc/pid/maps readers beside mmap/mprotect/munmap; Linux 6.17 reads maps under per-VMA locks",
                "scanner", List.of(integer("scanner", 1, "threads reading the whole /proc/pid/maps"),
                        integer("remapper", 1, "threads looping mmap, mprotect, munmap"),
                        integer("vmas", 2000, "background VMAs in the address space"),
                        size("remapRegion", "64k", "region the remapper maps per iteration"))) {
            @Override
            public boolean disjoint(ScenarioParams params) {
                return false;
            }

            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                Workloads.backgroundVmas(ctx, p.integer("vmas"));
                return List.of(new Role("scanner", p.integer("scanner"), Workloads.procScanner(ctx)),
                        new Role("remapper", p.integer("remapper"), Workloads.remapper(ctx, p.size("remapRegion"))));
            }
        };
    }

    static Scenario bigMunmap() {
        return new BaseScenario("big-munmap",
                "munmap downgrade (Linux 4.20): unmapping a large populated region held mmap_sem for writing throughout the zap",
                "faulters", List.of(integer("unmapper", 1, "threads populating and unmapping a large region"),
                        integer("faulters", 1, "threads faulting their own anon regions"),
                        integer("mapper", 1, "threads looping mmap + touch + munmap"),
                        size("bigRegion", "32m", "the region the unmapper populates and unmaps"),
                        size("faultRegion", "2m", "each faulter's region"),
                        size("mapperRegion", "64k", "region the mapper maps per iteration"))) {
            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                return List.of(new Role("unmapper", p.integer("unmapper"), Workloads.bigUnmapper(ctx, p.size("bigRegion"))),
                        new Role("faulters", p.integer("faulters"), Workloads.faultLoop(ctx, p.size("faultRegion"), false)),
                        new Role("mapper", p.integer("mapper"), Workloads.mapperLoop(ctx, p.size("mapperRegion"), false)));
            }
        };
    }

    static Scenario faultVsMmap() {
        return new BaseScenario("fault-vs-mmap",
                "the talk's false sharing: threads faulting their own memory wait for an unrelated mmap/munmap",
                "faulters", List.of(integer("faulters", 2, "threads faulting their own anon regions"),
                        integer("mapper", 1, "threads looping mmap + touch + munmap"),
                        size("faultRegion", "2m", "each faulter's region"),
                        size("mapperRegion", "64k", "region the mapper maps per iteration"),
                        bool("adjacent", false, "pack regions as an allocator would (VMAs merge) instead of 2 MiB-aligned arenas with gaps"))) {
            @Override
            public boolean disjoint(ScenarioParams params) {
                return !params.bool("adjacent");
            }

            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                boolean packed = p.bool("adjacent");
                return List.of(new Role("faulters", p.integer("faulters"), Workloads.faultLoop(ctx, p.size("faultRegion"), packed)),
                        new Role("mapper", p.integer("mapper"), Workloads.mapperLoop(ctx, p.size("mapperRegion"), packed)));
            }
        };
    }

    static Scenario threadSpawn() {
        return new BaseScenario("thread-spawn",
                "thread creation and exit: stack mmap, guard-page mprotect, munmap at exit, beside faulting threads",
                "faulters", List.of(integer("spawner", 1, "threads creating and ending threads (their stacks)"),
                        integer("faulters", 1, "threads faulting their own anon regions"),
                        size("stackSize", "1m", "the stack of each thread created"),
                        integer("touchPages", 4, "stack pages each new thread touches"),
                        size("faultRegion", "2m", "each faulter's region"))) {
            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                return List.of(new Role("spawner", p.integer("spawner"), Workloads.spawner(ctx, p.size("stackSize"), p.integer("touchPages"))),
                        new Role("faulters", p.integer("faulters"), Workloads.faultLoop(ctx, p.size("faultRegion"), false)));
            }
        };
    }

    static Scenario reclaimStall() {
        return new BaseScenario("reclaim-stall",
                "page allocations stalling in direct reclaim while the fault holds its lock, beside an mmap/munmap loop",
                "faulters", List.of(integer("faulters", 2, "threads faulting their own anon regions"),
                        integer("mapper", 1, "threads looping mmap + touch + munmap"),
                        probability("stallProbability", 0.01, "chance that one page allocation stalls"),
                        latency("stallLatency", "1ms", "how long a stall sleeps"),
                        size("faultRegion", "2m", "each faulter's region"),
                        size("mapperRegion", "64k", "region the mapper maps per iteration"))) {
            @Override
            public MmConfig mmConfig(ScenarioParams p, long seed) {
                return MmConfig.defaults().withAllocator(
                        new PageAllocator(0, p.probability("stallProbability"), p.latency("stallLatency"), seed));
            }

            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                return List.of(new Role("faulters", p.integer("faulters"), Workloads.faultLoop(ctx, p.size("faultRegion"), false)),
                        new Role("mapper", p.integer("mapper"), Workloads.mapperLoop(ctx, p.size("mapperRegion"), false)));
            }
        };
    }

    static Scenario gupSlow() {
        return new BaseScenario("gup-slow",
                "get_user_pages of a slow-file region (direct I/O, RDMA): it faults under the mmap read lock and cannot drop it",
                "faulters", List.of(integer("gup", 1, "threads pinning pages of a cold file"),
                        integer("mapper", 1, "threads looping mmap + touch + munmap"),
                        integer("faulters", 1, "threads faulting their own anon regions"),
                        integer("gupPages", 4, "pages per get_user_pages call"),
                        latency("latency", "2ms", "device read latency (a sleeping wait)"),
                        size("fileSize", "64m", "size of the file gup pins pages of"),
                        size("faultRegion", "2m", "each faulter's region"),
                        size("mapperRegion", "64k", "region the mapper maps per iteration"))) {
            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                BackingFile file = ctx.file("gup-file", p.size("fileSize"), p.latency("latency"));
                return List.of(new Role("gup", p.integer("gup"), Workloads.gupLoop(ctx, file, p.integer("gupPages"))),
                        new Role("mapper", p.integer("mapper"), Workloads.mapperLoop(ctx, p.size("mapperRegion"), false)),
                        new Role("faulters", p.integer("faulters"), Workloads.faultLoop(ctx, p.size("faultRegion"), false)));
            }
        };
    }

    static Scenario pageFault(String name, Workloads.Backing backing, String what) {
        return new BaseScenario(name,
                "will-it-scale " + name.replace('-', '_') + ": each thread maps 128 MiB of " + what + ", writes every page, unmaps",
                "workers", List.of(integer("workers", 2, "threads, each in its own region"),
                        size("region", "128m", "each thread's region"))) {
            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                return List.of(new Role("workers", p.integer("workers"), Workloads.pageFaultLoop(ctx, p.size("region"), backing)));
            }
        };
    }

    static Scenario pft() {
        return new BaseScenario("pft", "pft (Lameter) as the per-VMA lock and SPF series ran it: threads fault their own "
                + "slices of one shared anonymous VMA; Linux 6.4 per-VMA locks -9.5% at 4 threads, +21.9% at 128",
                "workers", List.of(integer("workers", 2, "threads, each faulting its own slice of the one VMA"),
                        size("slice", "2m", "each thread's slice"))) {
            /** The threads share one VMA: no place for the no-lock reference. */
            @Override
            public boolean disjoint(ScenarioParams params) {
                return false;
            }

            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                return List.of(new Role("workers", p.integer("workers"),
                        Workloads.sharedVmaFaults(ctx, p.size("slice"), p.integer("workers"))));
            }
        };
    }

    static Scenario mmap1() {
        return new BaseScenario("mmap1", "will-it-scale mmap1: each thread maps and unmaps 128 MiB without touching it",
                "workers", List.of(integer("workers", 2, "threads, each in its own region"),
                        size("region", "128m", "each thread's region"))) {
            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                return List.of(new Role("workers", p.integer("workers"), Workloads.mmapLoop(ctx, p.size("region"))));
            }
        };
    }

    static Scenario spfTest() {
        return new BaseScenario("spf-test",
                "the speculative page fault series' test: many threads each map some VMAs, fault their pages, unmap them",
                "workers", List.of(integer("workers", 2, "threads, each in its own arena"),
                        integer("vmasPerIteration", 8, "VMAs each thread maps per iteration"),
                        size("vmaSize", "64k", "size of each VMA"))) {
            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                return List.of(new Role("workers", p.integer("workers"),
                        Workloads.spfLoop(ctx, p.integer("vmasPerIteration"), p.size("vmaSize"))));
            }
        };
    }

    static Scenario forkStorm() {
        return new BaseScenario("fork-storm",
                "fork, the longest mm-lock writer (dup_mmap copies every VMA and write-protects every private page), beside threads faulting in the parent",
                "faulters", List.of(integer("forker", 1, "threads looping fork + child writes + child exit"),
                        integer("faulters", 1, "threads faulting their own anon regions in the parent"),
                        integer("vmas", 1000, "background VMAs the fork copies"),
                        size("forkRegion", "1m", "the forker's populated region (shared copy-on-write with each child)"),
                        integer("childTouch", 16, "pages of that region each child writes (copy-on-write faults)"),
                        size("faultRegion", "2m", "each faulter's region"))) {
            @Override
            public boolean disjoint(ScenarioParams params) {
                return false;
            }

            @Override
            protected List<Role> roles(ScenarioContext ctx) {
                ScenarioParams p = ctx.params();
                Workloads.backgroundVmas(ctx, p.integer("vmas"));
                return List.of(new Role("forker", p.integer("forker"),
                                Workloads.forker(ctx, p.size("forkRegion"), p.integer("childTouch"))),
                        new Role("faulters", p.integer("faulters"), Workloads.faultLoop(ctx, p.size("faultRegion"), false)));
            }
        };
    }
}
