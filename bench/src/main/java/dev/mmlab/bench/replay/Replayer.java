package dev.mmlab.bench.replay;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.Access;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.check.Violation;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.api.sim.SimulationException;
import dev.mmlab.api.sim.VirtualScheduler;
import dev.mmlab.api.stats.LockUse;
import dev.mmlab.api.stats.LockWaitRecorder;
import dev.mmlab.api.sync.Sched;
import dev.mmlab.bench.replay.ReplayScript.ChildExitStep;
import dev.mmlab.bench.replay.ReplayScript.ExecMapping;
import dev.mmlab.bench.replay.ReplayScript.FaultStep;
import dev.mmlab.bench.replay.ReplayScript.ForkStep;
import dev.mmlab.bench.replay.ReplayScript.Image;
import dev.mmlab.bench.replay.ReplayScript.Step;
import dev.mmlab.bench.replay.ReplayScript.SyscallStep;
import dev.mmlab.bench.trace.Mmap2Record;
import dev.mmlab.bench.trace.PageFault;
import dev.mmlab.bench.trace.Syscall;
import dev.mmlab.bench.trace.Trace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays one process of a trace on a model address space ({@link Mm}) under one strategy, and says how
 * closely the model followed the kernel ({@link Fidelity}).
 *
 * <p>How each event becomes an engine call:
 * <ul>
 *   <li><b>Mappings made outside the traced syscalls</b> (exec: program, loader, bss, {@code [stack]},
 *       {@code [vdso]}, {@code [vvar]}) are made at their address with {@code MAP_FIXED}: a file mapping maps
 *       one {@link BackingFile} per (major, minor, inode) with the record's path, on one instant
 *       {@link BlockDevice} per (major, minor), at the record's offset; {@code [stack]} is a growsdown anonymous
 *       mapping and becomes the mm's start_stack; {@code //anon} is private anonymous memory; shared anonymous
 *       memory ({@code /dev/zero (deleted)} on 00:01) maps a shmem object with the record's inode; other
 *       bracketed names are special mappings ({@link SpecialMapping}).
 *   <li><b>mmap</b> is replayed with its traced arguments. A file mapping takes its file from the MMAP2
 *       record printed during the call (path, device, inode; not the range, which is the merged VMA's when the
 *       mapping merged into a neighbour) and remembers it as that fd's file for later calls without a record.
 *       A shared anonymous mapping maps a shmem object with the record's inode (so /proc/pid/maps shows the
 *       kernel's inode). <em>Placement:</em> a successful mmap without {@code MAP_FIXED} passes the traced
 *       result as its address <em>hint</em>, not as {@code MAP_FIXED}: the call keeps its non-fixed locking
 *       path and cannot clobber a mapping, and it lands where the kernel put it whenever the model's layout
 *       matches (if it does not, the result differs and is reported).
 *   <li><b>mremap</b> that moved without {@code MREMAP_FIXED} is replayed with {@code MREMAP_FIXED} at the
 *       traced new address (the kernel chose it with a search the model cannot repeat without its mmap_base);
 *       every other call is replayed as traced.
 *   <li><b>brk</b>: the first {@code brk(0)} of an address space tells start_brk ({@link Mm#setStartBrk}).
 *   <li><b>munmap, mprotect, pkey_mprotect</b> (the key is not modelled), <b>madvise, mlock, mlock2, munlock,
 *       mlockall, munlockall</b>: as traced.
 *   <li><b>User faults</b>: {@link Mm#fault} with the access from the error code; anything but
 *       {@link FaultOutcome#MAPPED} is a difference (the program went on, so the kernel resolved it).
 *       <b>Kernel faults</b> ({@code copy_to_user} and the like) are replayed as faults too, because they take
 *       the same locks and populate the same pages, but their outcome is not compared: the kernel turns a
 *       failed one into an error return of the syscall, not a signal.
 * </ul>
 * Each syscall's result (return value or errno) is compared with the trace.
 *
 * <p>Processes ({@link ReplayScript} has the details): a {@code PERF_RECORD_FORK} of a new process by the
 * replayed one is {@link Mm#fork()} at that point, so the parent pays the copy under its mmap write lock as
 * the real program did; the child's copy is torn down ({@link Mm#exit()}) at the child's exec or last exit, so
 * the parent's writes in between break copy-on-write sharing as they did in the kernel. Replaying a process
 * that was itself forked from a traced parent first replays the parent's events up to the fork, serially and
 * outside the child's figures ({@link ReplayResult.ForkPrefix}), forks, and goes on in the child's copy.
 * {@code PERF_RECORD_COMM exec} starts a fresh address space as before. The invariant checker runs over every
 * address space of the fork family at once, because they share pages.
 *
 * <p>Timing: {@link ReplayTiming#SERIAL} runs the image's steps in their order on the calling thread (file
 * order, or the kernel's mmap_lock order when the trace recorded it: {@link ReplayScript}). The others give
 * each traced thread a Java thread keeping its own order; a thread starts only once every event that precedes
 * its first event in the file has been replayed (so it does not run before the clone that created it), and
 * {@link ReplayTiming#ORIGINAL} also waits out the traced gaps divided by the speed. When the trace recorded the
 * kernel's mmap_lock grants, a thread's syscall also waits until the syscall granted the lock just before it (on
 * another thread) has been replayed, so the syscalls keep the kernel's order while faults and syscalls without a
 * grant run free. Each exec starts a fresh
 * address space after every thread of the previous one finished; the invariant checker runs at each such
 * quiescent point.
 *
 * <p>Clock: on the wall clock (the default) the threads are Java threads on this machine. Under the virtual
 * clock ({@link ReplayOptions#virtualClock()}) each image's traced threads are simulated threads of one
 * {@link VirtualScheduler}, a simulated core each, running the same steps: latencies, waits and the replay's
 * time are virtual (every timing here reads {@link Sched#nanoTime()}), {@link ReplayTiming#ORIGINAL}'s gaps are
 * virtual sleeps, and the same profile and seed give the same replay. A fork prefix runs on one simulated core.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> {@link #replay} may be called concurrently: calls share nothing. One call's
 *       threads share the address space (designed for it), the {@link Fidelity} (synchronized), and the image
 *       run's tables (files, devices, fds, special mappings, forked children: concurrent maps; the fork family:
 *       a copy-on-write list). Each thread records latencies into its own histograms, merged after
 *       {@code join()}. Progress is an {@link AtomicIntegerArray} with one slot per thread, written only by that
 *       thread; failures go to a concurrent map. {@code brkStarted} is a volatile flag set by the first brk
 *       replayed (a check-then-set, not a CAS). Under the virtual clock only the simulated thread holding the
 *       scheduler's baton runs, so the progress counters are a plain array written and read by the baton
 *       holder (the baton's hand-over is a volatile write the next holder reads); the wake lists are built
 *       before the threads start and only read after.</li>
 *   <li><b>Lock order.</b> none of its own: a replay thread waits for another's progress by polling (short
 *       parks; under the virtual clock, a park through the seam that the completing thread ends), holding no
 *       lock of the address space, and the wait graph follows the image's step order, so it has no cycle. A fork holds the
 *       parent's mmap write lock inside the engine for the whole copy, as the traced program did. The tables'
 *       concurrent maps and the synchronized {@link Fidelity} make no seam call while locked, so a simulated
 *       thread never gives the baton away inside one.</li>
 * </ul>
 */
public final class Replayer {
    private static final Logger LOG = LoggerFactory.getLogger(Replayer.class);

    /** Size given to every replayed file: the trace does not say, and a fault past the end would be SIGBUS. */
    static final long FILE_SIZE = 1L << 40;

    private static final String SHMEM_PATH = "/dev/zero (deleted)";

    /**
     * Under the virtual clock, how long (real time) a simulated thread may go without a seam call before the
     * replay fails as blocked outside the seam; as for {@code compare}'s workers.
     */
    private static final long STALL_MILLIS = 30_000;

    private Replayer() {}

    /**
     * Replays {@code trace} under {@code selected}. Blocks until the replay finished; in the threaded modes
     * it starts and joins one thread per traced thread (under the virtual clock, simulated threads).
     *
     * @throws IllegalArgumentException if the trace has no events of the chosen pid
     * @throws IllegalStateException if a replay thread failed unexpectedly (an engine bug, not a difference)
     * @throws SimulationFailedException under the virtual clock, if a replay thread threw, the simulated threads
     *     deadlocked, or one blocked outside the {@link Sched} seam
     */
    public static ReplayResult replay(Trace trace, Strategies.Selected selected, ReplayOptions options) {
        int pid = options.pid() == ReplayOptions.DEFAULT_PID ? trace.defaultPid() : options.pid();
        return replay(ReplayScript.of(trace, pid), selected, options);
    }

    /** Replays a prepared script; see {@link #replay(Trace, Strategies.Selected, ReplayOptions)}. */
    public static ReplayResult replay(ReplayScript script, Strategies.Selected selected, ReplayOptions options) {
        Fidelity fidelity = new Fidelity();
        Map<String, Histogram> latencies = new TreeMap<>();
        Map<String, Long> counters = new TreeMap<>();
        Map<String, Map<String, Long>> lockUse = new TreeMap<>();
        long[] waits = new long[4];
        List<String> violations = new ArrayList<>();
        String maps = "";
        ReplayResult.ForkPrefix forkPrefix = ReplayResult.ForkPrefix.none();
        long prefixNanos = 0;
        long virtualNanos = 0;
        long started = System.nanoTime();
        int imageNo = 0;
        for (Image image : script.images()) {
            imageNo++;
            // Every address space of this image's fork family, exited ones included: they share pages (and files
            // an exited child alone mapped keep cached pages), so the checker must count references across all.
            List<Mm> family = new CopyOnWriteArrayList<>();
            Mm root = Mm.create(selected, MmConfig.defaults());
            family.add(root);
            ImageRun run;
            if (image.forked()) {
                long p0 = System.nanoTime();
                Fidelity prefixFidelity = new Fidelity();
                ImageRun ancestor = new ImageRun(root, prefixFidelity, family);
                if (options.virtual()) {
                    // The ancestors' steps on one simulated core, so their time is virtual like the rest.
                    VirtualScheduler scheduler = new VirtualScheduler(options.virtualClock(), options.seed());
                    ImageRun[] child = new ImageRun[1];
                    scheduler.spawn("replay-fork-prefix", () -> child[0] = replayPrefix(image.prefix(), ancestor, fidelity));
                    prefixNanos = simulate(scheduler, selected);
                    run = child[0];
                } else {
                    run = replayPrefix(image.prefix(), ancestor, fidelity);
                    prefixNanos = System.nanoTime() - p0;
                }
                forkPrefix = new ReplayResult.ForkPrefix(image.forkRecord().ppid(), image.forkRecord().lineNo(),
                        prefixFidelity, prefixNanos);
            } else {
                run = new ImageRun(root, fidelity, family);
            }
            if (options.virtual()) {
                virtualNanos += runInVirtualTime(image, run, options, selected, latencies);
            } else if (options.timing() == ReplayTiming.SERIAL
                    || image.tids().size() <= 1 && options.timing() == ReplayTiming.ASAP) {
                Map<String, Histogram> mine = new HashMap<>();
                for (Step step : image.steps()) {
                    run.run(step, mine);
                }
                merge(latencies, mine);
            } else {
                runThreaded(image, run, options, latencies);
            }
            for (Violation v : InvariantChecker.check(family, List.of())) {
                violations.add("image " + imageNo + ": " + v);
            }
            Mm mm = run.mm;
            mm.counters().snapshot().forEach((k, v) -> counters.merge(k, v, Long::sum));
            lockUse = LockUse.merge(lockUse, mm.lockUse().snapshot());
            LockWaitRecorder w = mm.waits();
            waits[0] += w.count();
            waits[1] += w.falseConflicts();
            waits[2] += w.waitNanos();
            waits[3] += w.falseConflictWaitNanos();
            maps = mm.procMaps();
            run.exitChildren();
        }
        long elapsed = options.virtual() ? virtualNanos : System.nanoTime() - started - prefixNanos;
        Map<String, ReplayResult.OpStats> ops = new LinkedHashMap<>();
        latencies.forEach((op, h) -> ops.put(op, new ReplayResult.OpStats(h.getTotalCount(),
                elapsed == 0 ? 0 : h.getTotalCount() * 1e9 / elapsed, h.getMean() / 1e3,
                h.getValueAtPercentile(50) / 1e3, h.getValueAtPercentile(99) / 1e3, h.getMaxValue() / 1e3)));
        CostProfile costs = options.virtualClock();
        return new ReplayResult(script.source(), script.pid(), selected.label(), options.timing(), options.speed(),
                script.images().size(), fidelity, elapsed, ops, counters, lockUse,
                new ReplayResult.WaitStats(waits[0], waits[1], waits[2], waits[3]), violations, maps, forkPrefix,
                costs == null ? null : new ReplayResult.Profile(costs.name(), costs.hash()),
                costs == null ? 0 : options.seed());
    }

    /**
     * Replays an image's fork prefix serially, starting on {@code run} (the root ancestor), following each
     * {@link ForkStep#follow()} fork into the child; returns the run of the last child, which records into
     * {@code childFidelity}. The prefix's latencies are dropped: they are the ancestors' operations.
     */
    private static ImageRun replayPrefix(List<Step> prefix, ImageRun run, Fidelity childFidelity) {
        Map<String, Histogram> dropped = new HashMap<>();
        ImageRun current = run;
        for (int i = 0; i < prefix.size(); i++) {
            Step step = prefix.get(i);
            if (step instanceof ForkStep f && f.follow()) {
                boolean last = i == prefix.size() - 1;
                current = current.forkAndFollow(f, last ? childFidelity : current.fidelity, dropped);
            } else {
                current.run(step, dropped);
            }
        }
        return current;
    }

    private static void merge(Map<String, Histogram> into, Map<String, Histogram> from) {
        from.forEach((op, h) -> into.computeIfAbsent(op, k -> newHistogram()).add(h));
    }

    private static Histogram newHistogram() {
        return new Histogram(3);
    }

    /**
     * An image's steps split by traced thread, the threads numbered in the file order of their first step (not
     * in {@link Image#tids()}'s order, which is an immutable set's and changes from one JVM to the next: under
     * the virtual clock a thread's number is its simulated core and decides ties, so it must not).
     * {@code needBefore[i][u]} is how many of thread {@code u}'s steps precede thread {@code i}'s first step in
     * the image's order: thread {@code i} starts once every thread {@code u} has replayed that many.
     * {@code lockWait[i][k]}, when the trace recorded the kernel's mmap_lock grants, is the
     * {@link #progressKey} (thread, count) that thread {@code i}'s step {@code k} waits for: the syscall granted
     * the lock just before it on another thread, done; -1 for no wait. Both follow the image's order, a total order
     * that keeps each thread's own, so the wait graph has no cycle.
     */
    private record ThreadPlan(List<Integer> tids, List<List<Step>> perThread, int[][] needBefore, long[][] lockWait) {
        static ThreadPlan of(Image image) {
            Map<Integer, Integer> slotOf = new LinkedHashMap<>();
            for (Step step : image.steps()) {
                slotOf.putIfAbsent(step.tid(), slotOf.size());
            }
            int n = slotOf.size();
            List<List<Step>> perThread = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                perThread.add(new ArrayList<>());
            }
            int[][] needBefore = new int[n][];
            int[] seen = new int[n];
            List<List<Long>> lockWaits = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                lockWaits.add(new ArrayList<>());
            }
            long previousGrant = -1; // progressKey of the last lock-ordered syscall so far
            for (Step step : image.steps()) {
                int slot = slotOf.get(step.tid());
                if (needBefore[slot] == null) {
                    needBefore[slot] = seen.clone();
                }
                long wait = -1;
                if (step instanceof SyscallStep sc && sc.lockOrdered()) {
                    if (previousGrant >= 0 && (int) (previousGrant >>> 32) != slot) {
                        wait = previousGrant;
                    }
                    previousGrant = progressKey(slot, seen[slot] + 1);
                }
                lockWaits.get(slot).add(wait);
                seen[slot]++;
                perThread.get(slot).add(step);
            }
            long[][] lockWait = new long[n][];
            for (int i = 0; i < n; i++) {
                lockWait[i] = lockWaits.get(i).stream().mapToLong(Long::longValue).toArray();
            }
            return new ThreadPlan(List.copyOf(slotOf.keySet()), perThread, needBefore, lockWait);
        }

        int threads() {
            return tids.size();
        }
    }

    /**
     * One Java thread per traced thread, each starting once the steps before its first one are done
     * ({@link ThreadPlan}); a thread waits for the others' progress counters by polling.
     */
    private static void runThreaded(Image image, ImageRun run, ReplayOptions options, Map<String, Histogram> latencies) {
        ThreadPlan plan = ThreadPlan.of(image);
        List<Integer> tids = plan.tids();
        List<List<Step>> perThread = plan.perThread();
        int[][] needBefore = plan.needBefore();
        int n = plan.threads();
        AtomicIntegerArray progress = new AtomicIntegerArray(n);
        long t0 = image.steps().isEmpty() ? 0 : image.steps().get(0).event().timeNs();
        long wallStart = System.nanoTime();
        Map<Integer, Throwable> failures = new ConcurrentHashMap<>();
        List<Map<String, Histogram>> perThreadLatencies = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int slot = i;
            Map<String, Histogram> mine = new HashMap<>();
            perThreadLatencies.add(mine);
            Thread t = new Thread(() -> {
                try {
                    int[] need = needBefore[slot];
                    for (int u = 0; u < n; u++) {
                        while (progress.get(u) < need[u] && !failures.containsKey(u)) {
                            LockSupport.parkNanos(20_000);
                        }
                    }
                    List<Step> mySteps = perThread.get(slot);
                    for (int k = 0; k < mySteps.size(); k++) {
                        Step step = mySteps.get(k);
                        if (options.timing() == ReplayTiming.ORIGINAL) {
                            long due = wallStart + (long) ((step.event().timeNs() - t0) / options.speed());
                            for (long now = System.nanoTime(); now < due; now = System.nanoTime()) {
                                LockSupport.parkNanos(due - now);
                            }
                        }
                        long wait = plan.lockWait()[slot][k];
                        if (wait >= 0) {
                            int u = (int) (wait >>> 32);
                            while (progress.get(u) < (int) wait && !failures.containsKey(u)) {
                                LockSupport.parkNanos(20_000);
                            }
                        }
                        run.run(step, mine);
                        progress.incrementAndGet(slot);
                    }
                } catch (Throwable e) {
                    failures.put(slot, e);
                }
            }, "replay-tid-" + tids.get(i));
            threads.add(t);
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while joining replay threads", e);
            }
        }
        perThreadLatencies.forEach(m -> merge(latencies, m));
        if (!failures.isEmpty()) {
            Map.Entry<Integer, Throwable> first = failures.entrySet().iterator().next();
            throw new IllegalStateException("replay thread for tid " + tids.get(first.getKey()) + " failed: "
                    + first.getValue(), first.getValue());
        }
    }

    /**
     * The image in virtual time: one simulated thread (a core of its own) per traced thread, on one
     * {@link VirtualScheduler}; returns the virtual time the image took. A thread waiting to start parks through
     * the seam, and the thread whose step completes its condition wakes it ({@code wakeAt}), so the wait costs a
     * wake-up, not a polling interval. {@link ReplayTiming#ORIGINAL}'s gaps are virtual sleeps from the image's
     * virtual start.
     *
     * @throws SimulationFailedException when a thread threw, deadlocked or blocked outside the seam
     */
    private static long runInVirtualTime(Image image, ImageRun run, ReplayOptions options, Strategies.Selected selected,
            Map<String, Histogram> latencies) {
        ThreadPlan plan = ThreadPlan.of(image);
        int n = plan.threads();
        // Written and read only by the simulated thread holding the scheduler's baton, whose hand-over is a
        // volatile write the next holder reads: a plain array suffices.
        int[] progress = new int[n];
        Map<Long, List<Integer>> wakeAt = new HashMap<>();
        for (int i = 0; i < n; i++) {
            for (int u = 0; u < n; u++) {
                int need = plan.needBefore()[i][u];
                if (need > 0) {
                    wakeAt.computeIfAbsent(progressKey(u, need), k -> new ArrayList<>()).add(i);
                }
            }
            for (long wait : plan.lockWait()[i]) {
                if (wait >= 0) {
                    wakeAt.computeIfAbsent(wait, k -> new ArrayList<>()).add(i);
                }
            }
        }
        long t0 = image.steps().isEmpty() ? 0 : image.steps().get(0).event().timeNs();
        VirtualScheduler scheduler = new VirtualScheduler(options.virtualClock(), options.seed());
        Thread[] threads = new Thread[n];
        List<Map<String, Histogram>> perThreadLatencies = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int slot = i;
            Map<String, Histogram> mine = new HashMap<>();
            perThreadLatencies.add(mine);
            String name = "replay-tid-" + plan.tids().get(i);
            String gate = name + " waiting for the steps before its first";
            String lockGate = name + " waiting for the syscall granted the mmap_lock before its next";
            threads[i] = scheduler.spawn(name, () -> {
                int[] need = plan.needBefore()[slot];
                for (int u = 0; u < n; u++) {
                    while (progress[u] < need[u]) {
                        Sched.park(gate);
                    }
                }
                List<Step> mySteps = plan.perThread().get(slot);
                for (int k = 0; k < mySteps.size(); k++) {
                    Step step = mySteps.get(k);
                    if (options.timing() == ReplayTiming.ORIGINAL) {
                        long due = (long) ((step.event().timeNs() - t0) / options.speed());
                        Sched.sleepNanos(due - Sched.nanoTime());
                    }
                    long wait = plan.lockWait()[slot][k];
                    while (wait >= 0 && progress[(int) (wait >>> 32)] < (int) wait) {
                        Sched.park(lockGate);
                    }
                    run.run(step, mine);
                    progress[slot]++;
                    for (int waiter : wakeAt.getOrDefault(progressKey(slot, progress[slot]), List.of())) {
                        Sched.unpark(threads[waiter]);
                    }
                }
            });
        }
        long took = simulate(scheduler, selected);
        perThreadLatencies.forEach(m -> merge(latencies, m));
        return took;
    }

    private static long progressKey(int slot, int count) {
        return (long) slot << 32 | count;
    }

    /**
     * Runs the threads spawned on {@code scheduler} to their end; returns the virtual time they took.
     *
     * @throws SimulationFailedException naming {@code selected} when the simulation could not finish
     */
    private static long simulate(VirtualScheduler scheduler, Strategies.Selected selected) {
        try {
            scheduler.run(STALL_MILLIS);
        } catch (SimulationException e) {
            throw new SimulationFailedException(selected.label(), e);
        }
        return scheduler.elapsedNanos();
    }

    /**
     * Replays the steps of one address space; the per-address-space state (files, fds, start_brk, the children it
     * forked) lives here. A forked child's run shares the parent's files, devices and special mappings (one
     * page cache per file across the family, as in the kernel) and starts with a copy of its fd table.
     */
    private static final class ImageRun {
        private final Mm mm;
        private final Fidelity fidelity;
        private final List<Mm> family;
        private final Map<String, BlockDevice> devices;
        private final Map<String, OpenFile> files;
        private final Map<Integer, OpenFile> fdFiles;
        private final Map<String, SpecialMapping> specials;
        /** Children this address space forked whose copies are still in use, by pid. */
        private final Map<Integer, Mm> children = new ConcurrentHashMap<>();
        private volatile boolean brkStarted;

        ImageRun(Mm mm, Fidelity fidelity, List<Mm> family) {
            this.mm = mm;
            this.fidelity = fidelity;
            this.family = family;
            this.devices = new ConcurrentHashMap<>();
            this.files = new ConcurrentHashMap<>();
            this.fdFiles = new ConcurrentHashMap<>();
            this.specials = new ConcurrentHashMap<>();
        }

        /** The run of {@code child}, just forked from {@code parent}'s address space. */
        private ImageRun(ImageRun parent, Mm child, Fidelity fidelity) {
            this.mm = child;
            this.fidelity = fidelity;
            this.family = parent.family;
            this.devices = parent.devices;
            this.files = parent.files;
            this.fdFiles = new ConcurrentHashMap<>(parent.fdFiles);
            this.specials = parent.specials;
            this.brkStarted = parent.brkStarted;
        }

        /**
         * Forks this address space for the child of {@code step} and returns the child's run, recording into
         * {@code childFidelity}; the fork itself is this run's event. Blocks while the fork holds this address
         * space's mmap write lock.
         */
        ImageRun forkAndFollow(ForkStep step, Fidelity childFidelity, Map<String, Histogram> latencies) {
            return new ImageRun(this, fork(step, latencies), childFidelity);
        }

        /** Tears down the copies of children still alive at the end of the image (after the invariant check). */
        void exitChildren() {
            for (Mm child : children.values()) {
                child.exit();
            }
            children.clear();
        }

        /** Runs one step on the calling thread, recording its latency in {@code latencies} (the thread's own). */
        void run(Step step, Map<String, Histogram> latencies) {
            if (step instanceof SyscallStep s) {
                syscall(s, latencies);
            } else if (step instanceof FaultStep f) {
                fault(f.event(), latencies);
            } else if (step instanceof ExecMapping m) {
                execMapping(m.event(), latencies);
            } else if (step instanceof ForkStep f) {
                if (f.follow()) {
                    throw new IllegalArgumentException("line " + f.event().lineNo()
                            + ": a followed fork belongs at the end of an image's fork prefix");
                }
                Mm child = fork(f, latencies);
                if (children.put(f.childPid(), child) != null) {
                    LOG.warn("{}: pid {} forked again while its earlier copy was live", f.event().lineNo(),
                            f.childPid());
                }
            } else if (step instanceof ChildExitStep x) {
                childExit(x, latencies);
            }
        }

        /**
         * {@code fork()}: copies the address space as the traced program did at this point, paying the copy under
         * this address space's mmap write lock. An engine failure here is not a difference: it propagates.
         */
        private Mm fork(ForkStep step, Map<String, Histogram> latencies) {
            long t0 = Sched.nanoTime();
            Mm child = mm.fork();
            record(latencies, "fork", Sched.nanoTime() - t0);
            family.add(child);
            fidelity.fork();
            return child;
        }

        /** The child stopped using its copy (exit or exec): {@code exit_mmap} it, dropping its page references. */
        private void childExit(ChildExitStep step, Map<String, Histogram> latencies) {
            fidelity.childExit();
            Mm child = children.remove(step.childPid());
            if (child == null) {
                return;
            }
            long t0 = Sched.nanoTime();
            child.exit();
            record(latencies, "child_exit", Sched.nanoTime() - t0);
        }

        private void syscall(SyscallStep step, Map<String, Histogram> latencies) {
            Syscall s = step.event();
            String got;
            long result;
            long t0 = Sched.nanoTime();
            try {
                result = call(step);
                got = null;
            } catch (ErrnoException e) {
                result = -e.errno().number();
                got = null;
            } catch (RuntimeException e) {
                // An engine failure other than an errno is a difference, not the end of the replay.
                LOG.warn("{}:{}: {} threw", s.lineNo(), s.name(), e);
                result = Long.MIN_VALUE;
                got = "exception " + e;
            }
            record(latencies, s.name(), Sched.nanoTime() - t0);
            if (got == null && result == s.ret()) {
                fidelity.syscall(null);
            } else {
                fidelity.syscall(new Fidelity.Difference(s.lineNo(), describe(s), result(s.ret()),
                        got != null ? got : result(result)));
            }
        }

        private long call(SyscallStep step) {
            Syscall s = step.event();
            List<Long> a = List.copyOf(s.args().values());
            switch (s.name()) {
                case "mmap":
                    return mmap(step, a);
                case "munmap":
                    mm.munmap(a.get(0), a.get(1));
                    return 0;
                case "mprotect":
                case "pkey_mprotect":
                    mm.mprotect(a.get(0), a.get(1), a.get(2).intValue());
                    return 0;
                case "madvise":
                    mm.madvise(a.get(0), a.get(1), a.get(2).intValue());
                    return 0;
                case "mremap": {
                    long oldAddr = a.get(0);
                    int flags = a.get(3).intValue();
                    long newAddr = a.get(4);
                    if (!s.failed() && (flags & MREMAP_MAYMOVE) != 0 && (flags & MREMAP_FIXED) == 0 && s.ret() != oldAddr) {
                        flags |= MREMAP_FIXED;
                        newAddr = s.ret();
                    }
                    return mm.mremap(oldAddr, a.get(1), a.get(2), flags, newAddr);
                }
                case "brk":
                    if (!brkStarted) {
                        brkStarted = true;
                        if (a.get(0) == 0 && !s.failed()) {
                            startBrk(s.ret());
                        }
                    }
                    return mm.brk(a.get(0));
                case "mlock":
                    mm.mlock(a.get(0), a.get(1), 0);
                    return 0;
                case "mlock2":
                    mm.mlock(a.get(0), a.get(1), a.get(2).intValue());
                    return 0;
                case "munlock":
                    mm.munlock(a.get(0), a.get(1));
                    return 0;
                case "mlockall":
                    mm.mlockall(a.get(0).intValue());
                    return 0;
                case "munlockall":
                    mm.munlockall();
                    return 0;
                default:
                    throw new IllegalArgumentException("syscall " + s.name() + " is not replayed");
            }
        }

        private void startBrk(long address) {
            try {
                mm.setStartBrk(address);
            } catch (IllegalStateException e) {
                LOG.debug("start_brk {} not set: {}", hex(address), e.getMessage());
            }
        }

        private long mmap(SyscallStep step, List<Long> a) {
            Syscall s = step.event();
            long addr = a.get(0);
            long len = a.get(1);
            int prot = a.get(2).intValue();
            int flags = a.get(3).intValue();
            int fd = a.get(4).intValue();
            long offset = a.get(5);
            Mmap2Record rec = step.records().isEmpty() ? null : step.records().get(0);
            boolean anonymous = (flags & MAP_ANONYMOUS) != 0;
            OpenFile file = null;
            if (rec != null && isShmemObject(rec)) {
                // Shared anonymous memory: map the kernel's shmem object so its inode shows as the kernel's.
                file = fileOf(rec);
                if (anonymous) {
                    flags &= ~MAP_ANONYMOUS;
                    offset = 0;
                }
                if (fd >= 0) {
                    fdFiles.put(fd, file);
                }
            } else if (!anonymous) {
                if (rec != null && rec.isAnonymous()) {
                    // A private mapping of /dev/zero: the kernel made it anonymous memory.
                    flags |= MAP_ANONYMOUS;
                } else if (rec != null) {
                    file = fileOf(rec);
                    fdFiles.put(fd, file);
                } else {
                    file = fdFiles.get(fd);
                }
            }
            if (!s.failed() && (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) == 0) {
                addr = s.ret();
            }
            return mm.mmap(addr, len, prot, flags, file, offset);
        }

        private void fault(PageFault f, Map<String, Histogram> latencies) {
            long t0 = Sched.nanoTime();
            FaultOutcome outcome;
            String error = null;
            try {
                outcome = f.address() < 0 || f.address() >= TASK_SIZE ? FaultOutcome.SEGV
                        : mm.fault(f.address(), Access.fromErrorCode(f.errorCode()));
            } catch (RuntimeException e) {
                LOG.warn("{}: fault at {} threw", f.lineNo(), hex(f.address()), e);
                outcome = FaultOutcome.SEGV;
                error = "exception " + e;
            }
            record(latencies, f.user() ? "fault" : "fault_kernel", Sched.nanoTime() - t0);
            if (!f.user()) {
                fidelity.kernelFault();
            } else if (outcome == FaultOutcome.MAPPED) {
                fidelity.userFault(null);
            } else {
                fidelity.userFault(new Fidelity.Difference(f.lineNo(), describe(f), "MAPPED",
                        error != null ? error : outcome.name()));
            }
        }

        private void execMapping(Mmap2Record r, Map<String, Histogram> latencies) {
            long t0 = Sched.nanoTime();
            String error = null;
            try {
                mapAtExec(r);
            } catch (RuntimeException e) {
                error = e.toString();
            }
            record(latencies, "exec_mapping", Sched.nanoTime() - t0);
            if (error == null) {
                fidelity.mapping();
            } else {
                // Counted with the syscalls: a mapping the kernel made that the model refused.
                fidelity.syscall(new Fidelity.Difference(r.lineNo(), "PERF_RECORD_MMAP2 " + hex(r.start()) + "-"
                        + hex(r.end()) + " " + r.prot() + " " + r.path(), "mapped", error));
            }
        }

        /** Counted as {@code exec}, not {@code mmap}, in lockUse: the kernel makes these inside execve. */
        private void mapAtExec(Mmap2Record r) {
            int prot = (r.isReadable() ? PROT_READ : 0) | (r.isWritable() ? PROT_WRITE : 0)
                    | (r.isExecutable() ? PROT_EXEC : 0);
            int flags = MAP_FIXED | (r.isShared() ? MAP_SHARED : MAP_PRIVATE);
            String path = r.path();
            if (path.equals("[stack]")) {
                mm.mmapAtExec(r.start(), r.len(), prot, flags | MAP_ANONYMOUS | MAP_GROWSDOWN, null, 0, null);
                mm.setStartStack(r.end() - PAGE_SIZE);
            } else if (r.isAnonymous() || path.equals("[heap]") || r.ino() == 0 && r.maj() == 0 && r.min() == 0
                    && !path.startsWith("[")) {
                mm.mmapAtExec(r.start(), r.len(), prot, flags | MAP_ANONYMOUS, null, 0, null);
            } else if (path.startsWith("[") && r.ino() == 0) {
                mm.mmapAtExec(r.start(), r.len(), prot, flags, null, 0,
                        specials.computeIfAbsent(path, SpecialMapping::new));
            } else {
                mm.mmapAtExec(r.start(), r.len(), prot, flags, fileOf(r), r.pgoff(), null);
            }
        }

        /** One open file per (major, minor, inode), read-write: the trace does not say how the fd was opened. */
        private OpenFile fileOf(Mmap2Record r) {
            String key = r.maj() + ":" + r.min() + ":" + r.ino();
            return files.computeIfAbsent(key, k -> {
                BackingFile file;
                if (isShmemObject(r)) {
                    file = BackingFile.shmem(r.ino(), FILE_SIZE, mm.allocator());
                } else {
                    BlockDevice device = devices.computeIfAbsent(r.maj() + ":" + r.min(),
                            d -> BlockDevice.instant("dev" + d, r.maj(), r.min()));
                    file = BackingFile.regular(r.path(), r.ino(), FILE_SIZE, device, mm.allocator());
                }
                return OpenFile.readWrite(file);
            });
        }

        private static boolean isShmemObject(Mmap2Record r) {
            return r.maj() == BackingFile.SHMEM_MAJOR && r.min() == BackingFile.SHMEM_MINOR && r.path().equals(SHMEM_PATH);
        }

        private static void record(Map<String, Histogram> latencies, String op, long nanos) {
            latencies.computeIfAbsent(op, k -> newHistogram()).recordValue(Math.max(0, nanos));
        }
    }

    /** A syscall as the trace has it: {@code mprotect(start=0x7f.., len=0x2000, prot=0x1)}. */
    static String describe(Syscall s) {
        StringBuilder sb = new StringBuilder(s.name()).append('(');
        String sep = "";
        for (Map.Entry<String, Long> e : s.args().entrySet()) {
            sb.append(sep).append(e.getKey()).append('=').append(hex(e.getValue()));
            sep = ", ";
        }
        return sb.append(')').toString();
    }

    static String describe(PageFault f) {
        return (f.user() ? "user" : "kernel") + " fault at " + hex(f.address()) + " error_code=" + hex(f.errorCode())
                + " (" + Access.fromErrorCode(f.errorCode()) + ")";
    }

    /** A syscall result: an address or count in hex, or {@code -ENOMEM (12)}. */
    static String result(long ret) {
        if (ret < 0 && ret >= -4095) {
            dev.mmlab.api.Errno errno = dev.mmlab.api.Errno.of((int) -ret);
            return "-" + (errno != null ? errno.name() : "errno") + " (" + -ret + ")";
        }
        return hex(ret);
    }
}
