package dev.mmlab.conformance;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.Access;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.check.Violation;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.api.sim.SimulationException;
import dev.mmlab.api.sim.VirtualScheduler;
import dev.mmlab.api.sync.Sched;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A random multi-threaded workload on one address space. Each worker owns a region (64 MiB apart from the
 * next) where it maps, unmaps, mprotects, madvises, mremaps, writes tokens, reads them back, pins pages with
 * GUP and creates and destroys thread stacks (mmap, a PROT_NONE guard page, munmap); all workers also share
 * one VMA in which each owns every n-th page (written and checked by its owner, faulted by all, split and
 * merged again by the owners' madvise); all workers also fight over a small contended range (map, unmap,
 * protect, zap, fault, pin the same pages), where only the invariants can be checked; worker 0 moves brk; a
 * monitor thread reads /proc/pid/maps, smaps and cmdline. Workers meet at a barrier every round, where the invariant checker runs on the quiescent mm.
 *
 * <p>It runs on Java threads for a wall-clock duration, or under a {@link VirtualScheduler} for a virtual one: it
 * waits only through the {@link Sched} seam (its barrier too), so an exploring scheduler can drive it through one
 * seeded interleaving after another.
 *
 * <p>No lost write: a worker knows what every page of its own region must hold (the last token it wrote, zero
 * after DONTNEED of anonymous memory, the file's content for a shared file page), because only it changes
 * that region; every read, every GUP and the final sweep compare against that.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> The address space protects itself: it is what is under test. A worker's
 *       expectations (its maps of what each own page must hold) are touched only by its thread, and by the
 *       calling thread in the final sweep after every worker was joined. The setup fields ({@code mm}, the
 *       shared and contended bases, the contended file) are written before the threads start, which
 *       publishes them. The shared tallies are atomic; {@code stop} is an {@link AtomicBoolean};
 *       {@code nextRound} is volatile, written only by the barrier action, so every party reads one answer per
 *       round; problems go to a synchronized list (its size check is not atomic with the add: a race may keep
 *       a few more than ten).</li>
 *   <li><b>Lock order.</b> none of its own but the barrier: workers and the /proc reader meet at a
 *       {@link SeamBarrier} each round, between engine calls, so none holds a lock of the mm there; the
 *       barrier action runs the invariant checker on the quiescent mm and asks the strategy's lock whether it
 *       is idle while every party waits.</li>
 *   <li><b>What a reader may see mid-update.</b> The /proc reader and the contended range see other threads'
 *       changes in flight, so only the invariants are checked there; a worker's own region is changed by no
 *       one else, so every read there must match exactly.</li>
 * </ul>
 */
public final class ConcurrentWorkload {
    /**
     * The result of one run. The last three figures (and {@link #problems}) must be zero (empty). Under an
     * exploring scheduler, {@code interleaving} is its record of the switches before the first problem (else empty).
     */
    public record Report(String strategy, long ops, long rounds, long violations, long lostWrites, long leaks,
            List<String> problems, List<String> interleaving) {
        /** Whether the run found nothing wrong. */
        public boolean clean() {
            return violations == 0 && lostWrites == 0 && leaks == 0 && problems.isEmpty();
        }

        @Override
        public String toString() {
            return String.format("%s: %d ops in %d rounds, %d violations, %d lost writes, %d leaks%s%s", strategy, ops,
                    rounds, violations, lostWrites, leaks, problems.isEmpty() ? "" : "; first problems: " + problems,
                    clean() || interleaving.isEmpty() ? "" : "\nthe last switches before the first problem:\n  "
                            + String.join("\n  ", interleaving));
        }
    }

    static final long REGION_BASE = 0x100000000L;
    static final long REGION_STRIDE = 64L << 20;
    static final int CHUNKS = 8;
    static final int CHUNK_PAGES = 32;
    static final long STACK_OFFSET = 32L << 20;
    static final int SHARED_PAGES_PER_WORKER = 8;
    private static final long UNKNOWN = Long.MIN_VALUE;

    private final StrategyUnderTest sut;
    private final int workers;
    private final Duration duration;
    private final long seed;
    /** Runs the threads in virtual time when set; null on the wall clock. */
    private final VirtualScheduler scheduler;
    private final AtomicLong ops = new AtomicLong();
    private final AtomicLong violations = new AtomicLong();
    private final AtomicLong lostWrites = new AtomicLong();
    private final List<String> problems = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean stop = new AtomicBoolean();
    /**
     * Whether the next round runs: decided once per round by the barrier action, so every party reads the same
     * answer (each reading {@code stop} itself after the barrier could let one leave while the others wait).
     */
    private volatile boolean nextRound = true;
    /** Under a scheduler, its record of switches when the first problem was found. */
    private List<String> interleavingAtFirstProblem = List.of();
    /** When the run ends, on the clock of {@link Sched#nanoTime} (virtual under a scheduler). */
    private long end;
    private Mm mm;
    private long sharedBase;
    private long contendedBase;
    private OpenFile contendedFile;
    static final int CONTENDED_PAGES = 8;

    /** A run of {@code workers} Java threads on the wall clock for {@code duration}. */
    public ConcurrentWorkload(StrategyUnderTest sut, int workers, Duration duration, long seed) {
        this(sut, workers, duration, seed, null);
    }

    /**
     * A run of {@code workers} threads simulated by {@code scheduler} (an exploring one checks one seeded schedule)
     * for {@code duration} of virtual time, or on the wall clock when {@code scheduler} is null.
     */
    public ConcurrentWorkload(StrategyUnderTest sut, int workers, Duration duration, long seed,
            VirtualScheduler scheduler) {
        this.sut = sut;
        this.workers = workers;
        this.duration = duration;
        this.seed = seed;
        this.scheduler = scheduler;
    }

    private void problem(AtomicLong counter, String what) {
        counter.incrementAndGet();
        if (problems.isEmpty() && scheduler != null) {
            interleavingAtFirstProblem = scheduler.interleaving(); // the steps that led to it, not what came after
        }
        if (problems.size() < 10) {
            problems.add(what);
        }
    }

    /** Operations each worker does between two checks: fewer under a scheduler, to catch a failure near its cause. */
    private int opsPerRound() {
        return scheduler == null ? 50 : 8;
    }

    /** Run to completion (about {@code duration}); never throws for a strategy's misbehaviour, it reports it. */
    public Report run() throws InterruptedException {
        MmConfig config = MmConfig.defaults();
        mm = sut.newMm(config);
        mm.setupStack(2);
        sharedBase = REGION_BASE + workers * REGION_STRIDE;
        mm.mmap(sharedBase, (long) workers * SHARED_PAGES_PER_WORKER * PAGE_SIZE, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
        contendedBase = sharedBase + REGION_STRIDE;
        BlockDevice slow = new BlockDevice("slow", 8, 64, LatencyModel.fixed(200_000), 0, seed);
        contendedFile = OpenFile.readWrite(BackingFile.regular("/data/contended", 3999, 64 * PAGE_SIZE, slow, config.allocator()));
        BlockDevice dev = new BlockDevice("nvme0n1", 259, 0, LatencyModel.fixed(20_000), 0, seed);
        long[] rounds = {0};
        SeamBarrier barrier = new SeamBarrier(workers + 1, () -> {
            rounds[0]++;
            checkQuiescent("round " + rounds[0]);
            nextRound = running();
        });
        Map<String, Runnable> bodies = new LinkedHashMap<>();
        List<Worker> ws = new ArrayList<>();
        for (int t = 0; t < workers; t++) {
            BackingFile file = BackingFile.regular("/data/w" + t, 3000 + t, CHUNKS * CHUNK_PAGES * PAGE_SIZE, dev, config.allocator());
            Worker w = new Worker(t, new SplittableRandom(seed * 31 + t), OpenFile.readWrite(file), barrier);
            ws.add(w);
            bodies.put("worker-" + t, w);
        }
        bodies.put("proc-reader", () -> monitor(barrier));
        if (scheduler == null) {
            runOnWallClock(bodies);
        } else {
            runSimulated(bodies);
        }
        for (Worker w : ws) {
            w.finalSweep();
        }
        checkQuiescent("end");
        mm.exit();
        long leaks = 0;
        for (Violation v : InvariantChecker.check(mm)) {
            leaks++;
            if (problems.size() < 10) {
                problems.add("after exit: " + v);
            }
        }
        for (Page p : config.allocator().livePages()) {
            if (p.kind() != Page.Kind.FILE) {
                leaks++;
                if (problems.size() < 10) {
                    problems.add("page live after exit: " + p);
                }
            }
        }
        return new Report(sut.label(), ops.get(), rounds[0], violations.get(), lostWrites.get(), leaks,
                List.copyOf(problems), interleavingAtFirstProblem);
    }

    private void runOnWallClock(Map<String, Runnable> bodies) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        bodies.forEach((name, body) -> threads.add(new Thread(body, name)));
        end = System.nanoTime() + duration.toNanos();
        threads.forEach(Thread::start);
        while (System.nanoTime() < end && threads.stream().anyMatch(Thread::isAlive)) {
            Thread.sleep(20);
        }
        stop.set(true);
        for (Thread t : threads) {
            t.join(60_000);
            if (t.isAlive()) {
                problem(violations, t.getName() + " did not finish: " + Watchdog.dump());
                t.interrupt();
            }
        }
    }

    /** Every thread under the scheduler; each stops once its own virtual clock passed the end. */
    private void runSimulated(Map<String, Runnable> bodies) {
        end = duration.toNanos();
        bodies.forEach(scheduler::spawn);
        try {
            scheduler.run(60_000);
        } catch (SimulationException e) {
            problem(violations, "the simulation failed: " + e.getMessage() + " at " + List.of(e.getStackTrace()).subList(0,
                    Math.min(6, e.getStackTrace().length)));
        }
    }

    /** Whether the calling thread should go on: nobody stopped the run and its clock has not reached the end. */
    private boolean running() {
        return !stop.get() && Sched.nanoTime() - end < 0;
    }

    private void checkQuiescent(String when) {
        for (Violation v : InvariantChecker.check(mm)) {
            problem(violations, when + ": " + v);
        }
        if (!mm.mmLock().isIdle()) {
            problem(violations, when + ": lock not idle: " + mm.mmLock().describe());
        }
    }

    /** Wait at the barrier; false when the run is over or the barrier broke (a peer is stuck: reported). */
    private boolean await(SeamBarrier barrier) {
        if (barrier.await(TimeUnit.SECONDS.toNanos(30))) {
            return nextRound;
        }
        if (!stop.get()) {
            problem(violations, Thread.currentThread().getName() + ": barrier broken or timed out");
        }
        stop.set(true);
        return false;
    }

    private void monitor(SeamBarrier barrier) {
        long[] args = null;
        do {
            for (int i = 0; i < 20; i++) {
                try {
                    String maps = mm.procMaps();
                    if (!maps.contains("[stack]")) {
                        problem(violations, "/proc/pid/maps lost the stack:\n" + maps);
                    }
                    mm.smaps();
                    long[] words = mm.readCmdline();
                    if (args == null) {
                        args = words;
                    } else if (!java.util.Arrays.equals(args, words)) {
                        problem(lostWrites, "cmdline changed: " + java.util.Arrays.toString(words));
                    }
                } catch (ErrnoException e) {
                    problem(violations, "monitor: " + e);
                }
                ops.incrementAndGet();
                Watchdog.progress();
            }
        } while (await(barrier));
    }

    /** One worker: its region, its shared pages, its expectations. */
    private final class Worker implements Runnable {
        private final int id;
        private final SplittableRandom r;
        private final OpenFile file;
        private final SeamBarrier barrier;
        private final long base;
        /** Per own page: expected content (UNKNOWN for a file page never seen), or absent when unmapped. */
        private final Map<Long, Long> anonExpected = new HashMap<>();
        /** Per own page mapped from the file: its page offset. */
        private final Map<Long, Long> filePgoff = new HashMap<>();
        private final Map<Long, Long> fileContent = new HashMap<>();
        private final Map<Long, Boolean> writable = new HashMap<>();
        private final Map<Long, Long> sharedExpected = new HashMap<>();

        Worker(int id, SplittableRandom r, OpenFile file, SeamBarrier barrier) {
            this.id = id;
            this.r = r;
            this.file = file;
            this.barrier = barrier;
            this.base = REGION_BASE + id * REGION_STRIDE;
        }

        long chunk(int k) {
            return base + (long) k * CHUNK_PAGES * PAGE_SIZE;
        }

        @Override
        public void run() {
            do {
                for (int i = 0; i < opsPerRound() && running(); i++) {
                    try {
                        step();
                    } catch (ErrnoException | MemoryAccessException e) {
                        problem(violations, "worker " + id + ": unexpected " + e);
                    } catch (RuntimeException | Error e) {
                        problem(violations, "worker " + id + ": " + e);
                        stop.set(true);
                    }
                    ops.incrementAndGet();
                    Watchdog.progress();
                }
            } while (await(barrier));
        }

        private boolean mapped(long page) {
            return anonExpected.containsKey(page) || filePgoff.containsKey(page);
        }

        private void forget(long start, long pages) {
            for (long p = start; p < start + pages * PAGE_SIZE; p += PAGE_SIZE) {
                anonExpected.remove(p);
                filePgoff.remove(p);
                writable.remove(p);
            }
        }

        private long expected(long page) {
            Long off = filePgoff.get(page);
            if (off != null) {
                return fileContent.getOrDefault(off, UNKNOWN);
            }
            return anonExpected.get(page);
        }

        private void check(long page, long actual, String how) {
            long want = expected(page);
            if (want == UNKNOWN) {
                fileContent.put(filePgoff.get(page), actual);
            } else if (want != actual) {
                problem(lostWrites, "worker " + id + " " + how + " " + hex(page) + ": expected " + hex(want) + ", got " + hex(actual));
            }
        }

        private long randomPage(int k) {
            return chunk(k) + r.nextInt(CHUNK_PAGES) * PAGE_SIZE;
        }

        private void step() {
            if (scheduler != null && r.nextBoolean()) {
                contended(); // a few hundred operations per schedule: spend half where threads interleave
                return;
            }
            int k = r.nextInt(CHUNKS);
            long c = chunk(k);
            long page = randomPage(k);
            switch (r.nextInt(18)) {
                case 0: { // map the chunk: anonymous, or the worker's file shared
                    forget(c, CHUNK_PAGES);
                    if (r.nextInt(3) == 0) {
                        long pgoff = (long) k * CHUNK_PAGES;
                        mm.mmap(c, CHUNK_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file, pgoff * PAGE_SIZE);
                        for (int i = 0; i < CHUNK_PAGES; i++) {
                            filePgoff.put(c + i * PAGE_SIZE, pgoff + i);
                            writable.put(c + i * PAGE_SIZE, true);
                        }
                    } else {
                        mm.mmap(c, CHUNK_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
                        for (int i = 0; i < CHUNK_PAGES; i++) {
                            anonExpected.put(c + i * PAGE_SIZE, 0L);
                            writable.put(c + i * PAGE_SIZE, true);
                        }
                    }
                    break;
                }
                case 1: { // unmap part of the chunk
                    int from = r.nextInt(CHUNK_PAGES);
                    int n = 1 + r.nextInt(CHUNK_PAGES - from);
                    mm.munmap(c + from * PAGE_SIZE, n * PAGE_SIZE);
                    forget(c + from * PAGE_SIZE, n);
                    break;
                }
                case 2: case 3: case 4: { // write a token
                    if (mapped(page) && writable.get(page)) {
                        long token = ((long) id << 48) | ops.get() << 8 | 0x5;
                        mm.write(page, token);
                        if (filePgoff.containsKey(page)) {
                            fileContent.put(filePgoff.get(page), token);
                        } else {
                            anonExpected.put(page, token);
                        }
                    }
                    break;
                }
                case 5: case 6: { // read it back
                    if (mapped(page)) {
                        check(page, mm.read(page), "read");
                    }
                    break;
                }
                case 7: { // mprotect a run read-only, or back to read-write
                    int from = r.nextInt(CHUNK_PAGES);
                    int n = 1 + r.nextInt(Math.min(8, CHUNK_PAGES - from));
                    long s = c + from * PAGE_SIZE;
                    boolean all = true;
                    for (int i = 0; i < n; i++) {
                        all &= mapped(s + i * PAGE_SIZE);
                    }
                    if (all) {
                        boolean rw = r.nextBoolean();
                        mm.mprotect(s, n * PAGE_SIZE, rw ? PROT_READ | PROT_WRITE : PROT_READ);
                        for (int i = 0; i < n; i++) {
                            writable.put(s + i * PAGE_SIZE, rw);
                        }
                    }
                    break;
                }
                case 8: { // DONTNEED: anonymous pages read zero after it, file pages keep their content
                    int from = r.nextInt(CHUNK_PAGES);
                    int n = 1 + r.nextInt(CHUNK_PAGES - from);
                    long s = c + from * PAGE_SIZE;
                    try {
                        mm.madvise(s, n * PAGE_SIZE, MADV_DONTNEED);
                    } catch (ErrnoException e) {
                        if (e.errno() != dev.mmlab.api.Errno.ENOMEM) {
                            throw e;
                        }
                    }
                    for (int i = 0; i < n; i++) {
                        long p = s + i * PAGE_SIZE;
                        if (anonExpected.containsKey(p)) {
                            anonExpected.put(p, 0L);
                        }
                    }
                    break;
                }
                case 9: { // move this chunk onto another, empty one
                    int j = r.nextInt(CHUNKS);
                    long d = chunk(j);
                    boolean whole = true;
                    boolean empty = true;
                    for (int i = 0; i < CHUNK_PAGES; i++) {
                        whole &= mapped(c + i * PAGE_SIZE);
                        empty &= !mapped(d + i * PAGE_SIZE);
                    }
                    if (j != k && whole && empty) {
                        mm.mremap(c, CHUNK_PAGES * PAGE_SIZE, CHUNK_PAGES * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, d);
                        long delta = d - c;
                        for (int i = 0; i < CHUNK_PAGES; i++) {
                            long p = c + i * PAGE_SIZE;
                            if (anonExpected.containsKey(p)) {
                                anonExpected.put(p + delta, anonExpected.get(p));
                            } else {
                                filePgoff.put(p + delta, filePgoff.get(p));
                            }
                            writable.put(p + delta, writable.get(p));
                        }
                        forget(c, CHUNK_PAGES);
                    }
                    break;
                }
                case 10: { // GUP: pin, check, unpin
                    if (mapped(page)) {
                        // A write pin where allowed: read pins of untouched memory all pin the zero page,
                        // which trips the engine's pin-count race (EngineBugReproTest) several times a run.
                        List<Page> pinned = mm.getUserPages(page, 1, writable.get(page));
                        check(page, pinned.get(0).content(), "gup");
                        mm.unpinUserPages(pinned);
                    }
                    break;
                }
                case 11: { // a fault without an access, and a flag advice that splits and merges
                    if (mapped(page)) {
                        FaultOutcome o = mm.fault(page, Access.READ);
                        if (o != FaultOutcome.MAPPED) {
                            problem(violations, "worker " + id + ": read fault on a mapped page gave " + o);
                        }
                        mm.madvise(page, PAGE_SIZE, MADV_RANDOM);
                        mm.madvise(page, PAGE_SIZE, MADV_NORMAL);
                    }
                    break;
                }
                case 12: { // a thread stack: map, guard page, use, unmap
                    long s = base + STACK_OFFSET;
                    mm.mmap(s, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_STACK, null, 0);
                    mm.mprotect(s, PAGE_SIZE, PROT_NONE);
                    long top = s + 15 * PAGE_SIZE;
                    mm.write(top, 0x57ac4L + id);
                    if (mm.read(top) != 0x57ac4L + id) {
                        problem(lostWrites, "worker " + id + ": stack write lost");
                    }
                    try {
                        mm.read(s);
                        problem(violations, "worker " + id + ": the guard page was readable");
                    } catch (MemoryAccessException e) {
                        if (e.outcome() != FaultOutcome.ACCESS) {
                            problem(violations, "worker " + id + ": guard page gave " + e.outcome());
                        }
                    }
                    mm.munmap(s, 16 * PAGE_SIZE);
                    break;
                }
                case 13: { // the shared VMA: write and check own pages, fault others', split and merge it
                    int slot = r.nextInt(SHARED_PAGES_PER_WORKER);
                    long mine = sharedBase + ((long) slot * workers + id) * PAGE_SIZE;
                    long other = sharedBase + r.nextInt(workers * SHARED_PAGES_PER_WORKER) * PAGE_SIZE;
                    long token = ((long) id << 48) | 0xa000_0000L | ops.get();
                    Long want = sharedExpected.get(mine);
                    long got = mm.read(mine);
                    if (got != (want == null ? 0 : want)) {
                        problem(lostWrites, "worker " + id + " shared page " + hex(mine) + ": expected " + want + ", got " + hex(got));
                    }
                    mm.write(mine, token);
                    sharedExpected.put(mine, token);
                    mm.read(other);
                    if (r.nextInt(4) == 0) {
                        mm.madvise(mine, PAGE_SIZE, MADV_SEQUENTIAL);
                        mm.madvise(mine, PAGE_SIZE, MADV_NORMAL);
                    }
                    if (r.nextInt(4) == 0) {
                        List<Page> pinned = mm.getUserPages(mine, 1, true);
                        if (pinned.get(0).content() != token) {
                            problem(lostWrites, "worker " + id + ": GUP of shared page saw " + hex(pinned.get(0).content()));
                        }
                        mm.unpinUserPages(pinned);
                    }
                    break;
                }
                case 14: { // brk (worker 0 only: brk is per process)
                    if (id == 0) {
                        long now = mm.brkValue();
                        long target = mm.startBrk() + r.nextInt(64) * PAGE_SIZE;
                        long got = mm.brk(target);
                        if (got != target && got != now) {
                            problem(violations, "brk(" + hex(target) + ") gave " + hex(got));
                        }
                    }
                    break;
                }
                case 15: case 16:
                    contended();
                    break;
                default: { // populate a chunk in one go
                    if (mapped(c) && r.nextBoolean()) {
                        try {
                            mm.madvise(c, CHUNK_PAGES * PAGE_SIZE, MADV_POPULATE_READ);
                        } catch (ErrnoException e) {
                            if (e.errno() != dev.mmlab.api.Errno.ENOMEM) {
                                throw e;
                            }
                        }
                    }
                    break;
                }
            }
        }

        /**
         * The contended range: every worker maps, unmaps, protects, zaps, faults and pins the same few pages at
         * once. Nobody can predict contents here; what a correct lock guarantees is checked at the barrier (no
         * PTE outside a VMA, refcounts right, nothing leaked) and no call may fail other than with an errno or
         * a fault outcome Linux gives.
         */
        private void contended() {
            long page = contendedBase + r.nextInt(CONTENDED_PAGES) * PAGE_SIZE;
            int n = 1 + r.nextInt(4);
            try {
                switch (r.nextInt(8)) {
                    case 0:
                        // A slow file here keeps faults in flight long enough for a broken lock to show.
                        if (r.nextBoolean()) {
                            mm.mmap(contendedBase, CONTENDED_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
                        } else {
                            mm.mmap(contendedBase, CONTENDED_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
                                    MAP_PRIVATE | MAP_FIXED, contendedFile, 0);
                        }
                        break;
                    case 1:
                        mm.munmap(page, n * PAGE_SIZE);
                        break;
                    case 2:
                        mm.mprotect(page, PAGE_SIZE, r.nextBoolean() ? PROT_READ : PROT_READ | PROT_WRITE);
                        break;
                    case 3:
                        mm.madvise(page, n * PAGE_SIZE, MADV_DONTNEED);
                        break;
                    case 4: {
                        List<Page> pinned = mm.getUserPages(page, 1, true);
                        mm.unpinUserPages(pinned);
                        break;
                    }
                    case 5:
                        mm.read(page);
                        break;
                    default:
                        mm.write(page, ops.get());
                        break;
                }
            } catch (ErrnoException e) {
                if (e.errno() != dev.mmlab.api.Errno.ENOMEM && e.errno() != dev.mmlab.api.Errno.EFAULT) {
                    throw e;
                }
            } catch (MemoryAccessException e) {
                if (e.outcome() != FaultOutcome.SEGV && e.outcome() != FaultOutcome.ACCESS) {
                    throw e;
                }
            }
        }

        /** After the run: every page still mapped holds what the worker last put there. */
        void finalSweep() {
            for (long p : new ArrayList<>(anonExpected.keySet())) {
                check(p, mm.read(p), "final read");
            }
            for (long p : new ArrayList<>(filePgoff.keySet())) {
                check(p, mm.read(p), "final read");
            }
            for (Map.Entry<Long, Long> e : sharedExpected.entrySet()) {
                long got = mm.read(e.getKey());
                if (got != e.getValue()) {
                    problem(lostWrites, "worker " + id + " final shared " + hex(e.getKey()) + ": expected " + hex(e.getValue()) + ", got " + hex(got));
                }
            }
        }
    }
}
