package dev.mmlab.conformance;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import dev.mmlab.api.Access;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mem.PageAllocator;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The conformance kit: everything a {@link LockingStrategy} must pass, run against the strategies given to
 * the constructor. A third party extends it with a no-argument constructor:
 *
 * <pre>{@code
 * class MyStrategyConformanceTest extends ConformanceSuite {
 *     MyStrategyConformanceTest() {
 *         super(new MyStrategy(), Map.of());
 *     }
 * }
 * }</pre>
 *
 * <p>JUnit Jupiter runs the {@code @TestFactory} methods (one dynamic test per strategy: semantics against
 * the reference, injected faults, interrupted waits, disjoint work, the concurrent workload, tagged
 * {@value #CONCURRENCY_TAG}); jqwik runs the {@code @Property} methods (model-checked random sequences and bad
 * input), each try over every strategy, shrinking a failure to a minimal sequence. The {@link Watchdog}
 * fails any Jupiter test that stops making progress.
 *
 * <p>The semantic reference is {@code rwsem} with its defaults when it is on the class path, else the kit's
 * {@link ReferenceStrategy}. The concurrent workload runs {@value #STRESS_PROPERTY} seconds (default 2) per
 * strategy configuration, or {@value #STRATEGY_STRESS_PROPERTY} seconds per strategy when that is set.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Each test makes its own address spaces, so tests share none. The only state
 *       shared between tests and suite instances is the static cache of reference transcripts, a
 *       {@link ConcurrentHashMap} keyed by script seed and filled once per seed by {@code computeIfAbsent}. A
 *       test's helper threads (the interrupted victim, the thread that dies between syscalls) hand their
 *       results back through an {@link AtomicReference} or plain fields read after {@code join()}.</li>
 *   <li><b>Lock order.</b> a reference transcript is computed inside the cache's {@code computeIfAbsent}: the
 *       cache entry &rarr; the locks of the fresh reference address space it runs. The EINTR tests hold the
 *       whole-space write guard on the test thread while the victim blocks behind it, interrupt the victim,
 *       and close the guard only after joining it.</li>
 * </ul>
 */
@ExtendWith(Watchdog.class)
public abstract class ConformanceSuite {
    /** System property: seconds the concurrency workloads run per strategy configuration. */
    public static final String STRESS_PROPERTY = "mmlab.stress.seconds";
    /**
     * System property: seconds the concurrency workloads run per strategy, shared evenly by that strategy's
     * configurations in this suite; when set it wins over {@value #STRESS_PROPERTY} (the stress profile sets it).
     */
    public static final String STRATEGY_STRESS_PROPERTY = "mmlab.stress.strategySeconds";
    /** System property: seeded schedules per strategy configuration that the schedule exploration runs. */
    public static final String SCHEDULES_PROPERTY = "mmlab.kit.schedules";
    /** The tag of the concurrency tests (what the {@code stress} profile runs). */
    public static final String CONCURRENCY_TAG = "concurrency";

    private static final Logger LOG = LoggerFactory.getLogger(ConformanceSuite.class);
    private static final Map<Long, List<String>> REFERENCE_TRANSCRIPTS = new ConcurrentHashMap<>();
    private static final int SCRIPT_STEPS = 160;
    private static final long[] SCRIPT_SEEDS = {1, 2, 3, 4, 5, 6, 7, 8};

    private final List<StrategyUnderTest> strategies;

    /** The kit for {@code strategy} with {@code options} (validated now; an empty map means the defaults). */
    protected ConformanceSuite(LockingStrategy strategy, Map<String, String> options) {
        this(List.of(StrategyUnderTest.of(strategy, options)));
    }

    /** The kit for several strategies or configurations. */
    protected ConformanceSuite(List<StrategyUnderTest> strategies) {
        if (strategies.isEmpty()) {
            throw new IllegalArgumentException("the conformance kit needs at least one strategy");
        }
        this.strategies = List.copyOf(strategies);
    }

    /** The strategies this suite checks. */
    protected final List<StrategyUnderTest> strategies() {
        return strategies;
    }

    /** The semantic reference: {@code rwsem} with defaults if discoverable, else {@link ReferenceStrategy}. */
    protected StrategyUnderTest reference() {
        Strategies found = Strategies.discover();
        if (found.names().contains("rwsem")) {
            return StrategyUnderTest.of(found.get("rwsem"), Map.of());
        }
        return StrategyUnderTest.of(new ReferenceStrategy(), Map.of());
    }

    /** Seconds each concurrency workload runs per strategy ({@value #STRESS_PROPERTY}, default 2). */
    protected static Duration stressDuration() {
        return Duration.ofSeconds(Long.getLong(STRESS_PROPERTY, 2));
    }

    /**
     * How long the concurrency workload runs for {@code s}: {@value #STRATEGY_STRESS_PROPERTY} divided by the
     * number of configurations of the same strategy in this suite when that property is set, else
     * {@link #stressDuration()}.
     */
    protected final Duration stressDuration(StrategyUnderTest s) {
        Long perStrategy = Long.getLong(STRATEGY_STRESS_PROPERTY);
        if (perStrategy == null) {
            return stressDuration();
        }
        long configurations = strategies.stream().filter(other -> other.name().equals(s.name())).count();
        return Duration.ofSeconds(perStrategy).dividedBy(configurations);
    }

    private Stream<DynamicTest> each(String name, Consumer<StrategyUnderTest> test) {
        return strategies.stream().map(s -> dynamicTest(name + " [" + s.label() + "]", () -> test.accept(s)));
    }

    private static void assertQuiescentAndClean(Mm mm) {
        assertThat(mm.mmLock().isIdle()).as("lock idle: %s", mm.mmLock().describe()).isTrue();
        assertThat(InvariantChecker.check(mm)).as("invariants of %s", mm).isEmpty();
    }

    // ------------------------------------------------------------------ semantics

    /** The same deterministic programs give byte-identical transcripts (results, errors, maps, contents). */
    @TestFactory
    Stream<DynamicTest> sameTranscriptAsReference() {
        StrategyUnderTest ref = reference();
        return each("same transcript as " + ref.label(), s -> {
            for (long seed : SCRIPT_SEEDS) {
                SyscallScript script = new SyscallScript(seed, SCRIPT_STEPS);
                List<String> want = REFERENCE_TRANSCRIPTS.computeIfAbsent(seed, k -> script.run(ref));
                List<String> got = script.run(s);
                for (int i = 0; i < Math.min(want.size(), got.size()); i++) {
                    if (!want.get(i).equals(got.get(i))) {
                        throw new AssertionError(s.label() + " differs from " + ref.label() + " in " + script
                                + " at entry " + i + "\n  reference: " + want.get(i) + "\n  strategy:  " + got.get(i)
                                + "\n  before it: " + want.subList(Math.max(0, i - 5), i));
                    }
                }
                assertThat(got).hasSameSizeAs(want);
            }
        });
    }

    /** Random single-threaded sequences agree with the reference model at every step. */
    @Property(tries = 150, shrinking = ShrinkingMode.FULL, edgeCases = EdgeCasesMode.NONE, seed = "20261126")
    void modelPredictsEverySequence(@ForAll("modelSequences") List<ModelOp> ops) {
        for (StrategyUnderTest s : strategies) {
            ReferenceModel model = new ReferenceModel(s);
            model.run(ops);
            assertQuiescentAndClean(model.mm());
        }
    }

    @Provide
    Arbitrary<List<ModelOp>> modelSequences() {
        return ModelOp.any().list().ofMinSize(1).ofMaxSize(40);
    }

    /** A call wrong in one way fails with Linux's errno and changes nothing. */
    @Property(tries = 250, seed = "20261126")
    void badInputFailsAndChangesNothing(@ForAll("badCalls") BadInput.Call call) {
        for (StrategyUnderTest s : strategies) {
            BadInput.Env env = new BadInput.Env(s);
            String before = env.state();
            Throwable t = catchThrowable(() -> call.body().accept(env));
            if (call.errno() != null) {
                assertThat(t).as("%s under %s", call, s).isInstanceOf(ErrnoException.class);
                assertThat(((ErrnoException) t).errno()).as("%s under %s: %s", call, s, t.getMessage()).isEqualTo(call.errno());
            } else if (call.fault() != null) {
                assertThat(t).as("%s under %s", call, s).isInstanceOf(MemoryAccessException.class);
                assertThat(((MemoryAccessException) t).outcome()).as("%s under %s", call, s).isEqualTo(call.fault());
            } else {
                assertThat(t).as("%s under %s", call, s).isNull();
            }
            assertThat(env.state()).as("state after %s under %s", call, s).isEqualTo(before);
            assertQuiescentAndClean(env.mm);
        }
    }

    @Provide
    Arbitrary<BadInput.Call> badCalls() {
        return BadInput.calls();
    }

    // ------------------------------------------------------------------ injected faults

    /** A device that fails every read: the fault gives BUS, and nothing else changes. */
    @TestFactory
    Stream<DynamicTest> ioErrorGivesBus() {
        return each("EIO gives SIGBUS", s -> {
            MmConfig config = MmConfig.defaults();
            Mm mm = s.newMm(config);
            BlockDevice broken = new BlockDevice("broken", 8, 48, LatencyModel.none(), 1.0, 1);
            BackingFile f = BackingFile.regular("/mnt/broken.img", 5001, 16 * PAGE_SIZE, broken, config.allocator());
            long anon = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
            mm.write(anon, 0x1234);
            long file = mm.mmap(0, 4 * PAGE_SIZE, PROT_READ, MAP_PRIVATE, OpenFile.readOnly(f), 0);
            String maps = mm.procMaps();
            assertThatThrownBy(() -> mm.read(file)).isInstanceOfSatisfying(MemoryAccessException.class,
                    e -> assertThat(e.outcome()).isEqualTo(FaultOutcome.BUS));
            assertThat(mm.fault(file + PAGE_SIZE, Access.READ)).isEqualTo(FaultOutcome.BUS);
            assertThat(mm.procMaps()).isEqualTo(maps);
            assertThat(mm.read(anon)).isEqualTo(0x1234);
            assertThat(f.cache().pages()).isEmpty();
            assertQuiescentAndClean(mm);
        });
    }

    /** Out of pages: a fault gives OOM, MAP_POPULATE still maps (best effort), mlock gives EAGAIN. */
    @TestFactory
    Stream<DynamicTest> allocatorLimitGivesOom() {
        return each("allocator limit", s -> {
            PageAllocator limited = new PageAllocator(8, 0, LatencyModel.none(), 1);
            Mm mm = s.newMm(MmConfig.defaults().withAllocator(limited));
            long a = mm.mmapAnon(0, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
            for (int i = 0; i < 8; i++) {
                mm.write(a + i * PAGE_SIZE, i + 1);
            }
            assertThatThrownBy(() -> mm.write(a + 8 * PAGE_SIZE, 9)).isInstanceOfSatisfying(MemoryAccessException.class,
                    e -> assertThat(e.outcome()).isEqualTo(FaultOutcome.OOM));
            assertThat(mm.fault(a + 9 * PAGE_SIZE, Access.WRITE)).isEqualTo(FaultOutcome.OOM);
            long p = mm.mmap(0, 8 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, null, 0);
            assertThat(mm.tree().find(p)).as("MAP_POPULATE out of memory still maps").isNotNull();
            assertThatThrownBy(() -> mm.mlock(p, 8 * PAGE_SIZE, 0)).isInstanceOfSatisfying(ErrnoException.class,
                    e -> assertThat(e.errno()).isEqualTo(Errno.EAGAIN));
            for (int i = 0; i < 8; i++) {
                assertThat(mm.read(a + i * PAGE_SIZE)).isEqualTo(i + 1);
            }
            assertQuiescentAndClean(mm);
            mm.munmap(a, 16 * PAGE_SIZE);
            mm.write(p, 77);
            assertThat(mm.read(p)).isEqualTo(77);
            assertQuiescentAndClean(mm);
        });
    }

    /** A driver callback that throws: a clear EIO naming the driver, every lock released, a consistent mm. */
    @TestFactory
    Stream<DynamicTest> throwingDriverCallbacks() {
        return each("driver callbacks that throw", s -> {
            Mm mm = s.newMm();
            long anon = mm.mmapAnon(0, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
            mm.write(anon, 5);
            String maps = mm.procMaps();
            // mmap hook throws: the mapping is refused and nothing changes.
            assertThatThrownBy(() -> mm.mmapDriver(0, 4 * PAGE_SIZE, PROT_READ, MAP_SHARED, new ThrowingDriver(VmOpsCallback.MMAP), 0))
                    .isInstanceOfSatisfying(ErrnoException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Errno.EIO);
                        assertThat(e.getMessage()).contains("throwing-driver").contains("mmap");
                    });
            assertThat(mm.procMaps()).isEqualTo(maps);
            assertQuiescentAndClean(mm);
            // open throws when a split copies the VMA: the split is refused, nothing changes.
            long d = mm.mmapDriver(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, new ThrowingDriver(VmOpsCallback.OPEN), 0);
            mm.write(d + PAGE_SIZE, 6);
            String withDriver = mm.procMaps();
            assertThatThrownBy(() -> mm.mprotect(d + PAGE_SIZE, PAGE_SIZE, PROT_READ))
                    .isInstanceOfSatisfying(ErrnoException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Errno.EIO);
                        assertThat(e.getMessage()).contains("throwing-driver").contains("open");
                    });
            assertThat(mm.procMaps()).isEqualTo(withDriver);
            assertThat(mm.read(d + PAGE_SIZE)).isEqualTo(6);
            assertQuiescentAndClean(mm);
            // close throws at munmap: the error is reported, the unmap is complete.
            long c = mm.mmapDriver(0, 2 * PAGE_SIZE, PROT_READ, MAP_SHARED, new ThrowingDriver(VmOpsCallback.CLOSE), 0);
            mm.read(c);
            assertThatThrownBy(() -> mm.munmap(c, 2 * PAGE_SIZE))
                    .isInstanceOfSatisfying(ErrnoException.class, e -> {
                        assertThat(e.errno()).isEqualTo(Errno.EIO);
                        assertThat(e.getMessage()).contains("throwing-driver").contains("close");
                    });
            assertThat(mm.tree().find(c)).isNull();
            assertThat(mm.read(anon)).isEqualTo(5);
            assertQuiescentAndClean(mm);
        });
    }

    /** A thread interrupted while it waits for the mm lock gets EINTR and changes nothing, for every syscall. */
    @TestFactory
    Stream<DynamicTest> interruptedWaitGivesEintr() {
        Map<String, Consumer<Mm>> calls = new LinkedHashMap<>();
        long a = 0x40000000L;
        calls.put("mmap fixed", mm -> mm.mmapAnon(a + (1L << 20), PAGE_SIZE, PROT_READ, MAP_FIXED));
        calls.put("mmap anywhere", mm -> mm.mmapAnon(0, PAGE_SIZE, PROT_READ, 0));
        calls.put("munmap", mm -> mm.munmap(a, PAGE_SIZE));
        calls.put("mprotect", mm -> mm.mprotect(a, PAGE_SIZE, PROT_READ));
        // The second page: a DONTNEED that runs under a VMA lock instead (Linux 6.18) must leave page a's word.
        calls.put("madvise DONTNEED", mm -> mm.madvise(a + PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED));
        calls.put("madvise RANDOM", mm -> mm.madvise(a, PAGE_SIZE, MADV_RANDOM));
        calls.put("mremap", mm -> mm.mremap(a, PAGE_SIZE, 2 * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, a + (2L << 20)));
        calls.put("brk", mm -> mm.brk(mm.brkValue() + 4 * PAGE_SIZE));
        calls.put("mlock", mm -> mm.mlock(a, PAGE_SIZE, 0));
        calls.put("get_user_pages", mm -> mm.unpinUserPages(mm.getUserPages(a, 1, false)));
        calls.put("/proc/pid/cmdline", Mm::readCmdline);
        calls.put("/proc/pid/maps", Mm::procMaps);
        calls.put("smaps", Mm::smaps);
        List<DynamicTest> out = new ArrayList<>();
        for (StrategyUnderTest s : strategies) {
            for (Map.Entry<String, Consumer<Mm>> call : calls.entrySet()) {
                boolean reader = call.getKey().startsWith("/proc") || call.getKey().equals("smaps")
                        || call.getKey().equals("madvise DONTNEED");
                out.add(dynamicTest("EINTR in " + call.getKey() + " [" + s.label() + "]",
                        interrupted(s, a, call.getValue(), reader)));
            }
        }
        return out.stream();
    }

    /**
     * Hold the whole-space write lock, let {@code call} block on it, interrupt it. A /proc reader or a madvise
     * DONTNEED may instead complete without the mmap lock (per-VMA locks read /proc under VMA locks, 6.17, and run
     * DONTNEED inside one VMA under its lock, 6.18): then the layout must be unchanged.
     */
    private static Executable interrupted(StrategyUnderTest s, long a, Consumer<Mm> call, boolean mayBypass) {
        return () -> {
            Mm mm = s.newMm();
            mm.setupStack(1);
            mm.mmapAnon(a, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
            mm.write(a, 11);
            String before = mm.procMaps() + mm.brkValue();
            AtomicReference<Throwable> result = new AtomicReference<>();
            Thread victim = new Thread(() -> {
                try {
                    call.accept(mm);
                } catch (Throwable t) {
                    result.set(t);
                }
            }, "victim");
            MmLockGuard guard = mm.mmLock().lock(LockIntent.coarse(OpKind.EXIT, LockIntent.Mode.WRITE, 0, TASK_SIZE));
            try {
                victim.start();
                long deadline = System.nanoTime() + 5_000_000_000L;
                // Parked with or without a timeout (a lock may poll), or blocked on a monitor (which an interrupt
                // cannot end: the join below then fails, as it should).
                while (victim.isAlive() && !blocked(victim.getState()) && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                if (victim.isAlive()) {
                    assertThat(blocked(victim.getState())).as("victim blocked on the lock: %s", victim.getState()).isTrue();
                    victim.interrupt();
                }
                victim.join(10_000);
                assertThat(victim.isAlive()).as("victim still blocked after interrupt: %s", mm.mmLock().describe()).isFalse();
            } finally {
                guard.close();
            }
            Throwable t = result.get();
            if (t == null && mayBypass) {
                assertThat(mm.procMaps() + mm.brkValue()).isEqualTo(before);
            } else {
                assertThat(t).as("result of the interrupted call").isInstanceOf(ErrnoException.class);
                assertThat(((ErrnoException) t).errno()).isEqualTo(Errno.EINTR);
                assertThat(mm.procMaps() + mm.brkValue()).as("nothing changed").isEqualTo(before);
            }
            assertThat(mm.read(a)).isEqualTo(11);
            assertQuiescentAndClean(mm);
        };
    }

    private static boolean blocked(Thread.State state) {
        return state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING || state == Thread.State.BLOCKED;
    }

    /** A thread that maps, writes, pins and then dies leaves a consistent, usable address space. */
    @TestFactory
    Stream<DynamicTest> threadDiesBetweenSyscalls() {
        return each("thread dies between syscalls", s -> {
            Mm mm = s.newMm();
            long[] mapped = new long[1];
            List<Page> pinned = new ArrayList<>();
            Thread dying = new Thread(() -> {
                mapped[0] = mm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
                mm.write(mapped[0], 0xdead);
                pinned.addAll(mm.getUserPages(mapped[0], 1, true));
                mm.mprotect(mapped[0] + PAGE_SIZE, PAGE_SIZE, PROT_READ);
                throw new IllegalStateException("the thread dies here, between two syscalls");
            }, "dying");
            dying.setUncaughtExceptionHandler((t, e) -> { });
            dying.start();
            try {
                dying.join(10_000);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
            assertThat(dying.isAlive()).isFalse();
            assertQuiescentAndClean(mm);
            assertThat(mm.read(mapped[0])).isEqualTo(0xdead);
            mm.munmap(mapped[0], 4 * PAGE_SIZE);
            assertQuiescentAndClean(mm);
            mm.unpinUserPages(pinned);
            assertQuiescentAndClean(mm);
            assertThat(mm.allocator().livePages()).isEmpty();
            mm.mmapAnon(0, PAGE_SIZE, PROT_READ, 0);
        });
    }

    // ------------------------------------------------------------------ concurrency

    /**
     * Disjoint work must not wait, as far as the design promises: a coarse lock shows false conflicts (that is
     * the point, and they must appear under contention); a design with fine-grained faults never makes a fault
     * on an unchanged VMA wait for another thread's work; a range-locking design never makes anything wait.
     */
    @TestFactory
    Stream<DynamicTest> disjointWorkDoesNotWait() {
        return each("disjoint work", s -> {
            try {
                DisjointWorkload.Report report = null;
                for (int attempt = 0; attempt < 10; attempt++) {
                    report = DisjointWorkload.run(s, 3, Duration.ofMillis(700));
                    if (s.granularity() != StrategyUnderTest.Granularity.COARSE || report.falseConflicts() > 0) {
                        break;
                    }
                }
                LOG.info("disjoint work [{} promises {}]: {}", s.label(), s.granularity(), report);
                switch (s.granularity()) {
                    case COARSE:
                        assertThat(report.falseConflicts()).as("a coarse lock makes disjoint work wait: %s", report).isPositive();
                        break;
                    case FAULTS:
                        assertThat(report.falseFaultWaitsOnStableVmas()).as("faults on stable VMAs waited: %s", report).isZero();
                        break;
                    default:
                        assertThat(report.falseConflicts()).as("range locking made disjoint work wait: %s", report).isZero();
                        break;
                }
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
    }

    /**
     * Random multi-threaded work with invariant checks at every round and at the end: no violation, no lost
     * write, no leak.
     */
    @TestFactory
    @Tag(CONCURRENCY_TAG)
    Stream<DynamicTest> concurrentWorkloadKeepsInvariants() {
        return each("concurrent workload", s -> {
            try {
                ConcurrentWorkload.Report report = new ConcurrentWorkload(s, 3, stressDuration(s), 42).run();
                LOG.info("concurrent workload: {}", report);
                assertThat(report.ops()).isPositive();
                assertThat(report.problems()).as("%s", report).isEmpty();
                assertThat(report.violations()).isZero();
                assertThat(report.lostWrites()).isZero();
                assertThat(report.leaks()).isZero();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
    }

    /**
     * The concurrent workload again, under seeded schedules of an exploring virtual-time scheduler
     * ({@value #SCHEDULES_PROPERTY} of them, default 20): interleavings a 2-core host rarely produces, the same on
     * every machine, and a failing seed replays its failure.
     */
    @TestFactory
    @Tag(CONCURRENCY_TAG)
    Stream<DynamicTest> exploredSchedulesKeepInvariants() {
        int schedules = Integer.getInteger(SCHEDULES_PROPERTY, 20);
        return each("explored schedules", s -> {
            ScheduleExplorer.Outcome outcome = ScheduleExplorer.DEFAULT.explore(s, schedules, 1);
            LOG.info("explored schedules [{}]: {}", s.label(), outcome);
            assertThat(outcome.failure()).as("%s", outcome).isNull();
        });
    }
}
