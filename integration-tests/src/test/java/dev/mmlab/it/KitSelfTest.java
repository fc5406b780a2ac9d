package dev.mmlab.it;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mmlab.api.Access;
import dev.mmlab.api.AnonIdentity;
import dev.mmlab.api.CoarseHold;
import dev.mmlab.api.FaultAttempt;
import dev.mmlab.api.FaultCore;
import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.FaultResult;
import dev.mmlab.api.HoldingFaultAttempt;
import dev.mmlab.api.LockIntent;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.MmContext;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.MmLockGuard;
import dev.mmlab.api.OpKind;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.StrategyOption;
import dev.mmlab.api.Vma;
import dev.mmlab.api.VmaTree;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.SnapshotVmaTree;
import dev.mmlab.api.pgtable.PteTable;
import dev.mmlab.conformance.ConcurrentWorkload;
import dev.mmlab.conformance.ModelOp;
import dev.mmlab.conformance.ReferenceModel;
import dev.mmlab.conformance.ScheduleExplorer;
import dev.mmlab.conformance.StrategyUnderTest;
import dev.mmlab.conformance.Watchdog;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Tests of the kit itself: it finds what it claims to find, and it enumerates the right strategies. */
class KitSelfTest {
    @Test
    void discoversRwsemWithEveryBooleanOptionFlipped() {
        List<String> labels = StrategyUnderTest.discoverAllVariants().stream().map(StrategyUnderTest::label).toList();
        assertThat(labels).contains("rwsem", "rwsem:faultRetry=false", "rwsem:populateDropsLock=false",
                "rwsem:munmapDowngrade=false");
        assertThat(StrategyUnderTest.parse("rwsem").granularity()).isEqualTo(StrategyUnderTest.Granularity.COARSE);
    }

    @Test
    void modelFollowsAHandWrittenSequence() {
        ReferenceModel model = new ReferenceModel(StrategyUnderTest.parse("rwsem"));
        model.run(List.of(
                new ModelOp.MmapAnon(0, 8, PROT_READ | PROT_WRITE, false),
                new ModelOp.Write(2, 1),
                new ModelOp.MmapFile(10, 4, PROT_READ | PROT_WRITE, true, 0, 3),
                new ModelOp.Write(11, 1),
                new ModelOp.MmapFile(20, 4, PROT_READ, false, 0, 3),
                new ModelOp.Read(21),
                new ModelOp.Mprotect(1, 4, PROT_READ),
                new ModelOp.Write(2, 1),
                new ModelOp.MremapMove(0, 8, 30, 10),
                new ModelOp.MremapMove(0, 8, 30, 8),
                new ModelOp.Read(32),
                new ModelOp.Read(37),
                new ModelOp.DontNeed(30, 4),
                new ModelOp.Read(32),
                new ModelOp.MremapResize(10, 4, 6),
                new ModelOp.Munmap(11, 1),
                new ModelOp.Read(11),
                new ModelOp.MmapAnon(40, 4, PROT_READ | PROT_WRITE, true),
                new ModelOp.Write(41, 1),
                new ModelOp.MremapMove(40, 4, 44, 4),
                new ModelOp.Read(45),
                new ModelOp.MmapAnywhere(3, PROT_READ)));
        List<String> h = model.history();
        assertThat(h).hasSize(22);
        assertThat(h.get(7)).as("write to a page made read-only").endsWith("ACCESS@0");
        assertThat(h.get(8)).as("mremap of three VMAs to another size").endsWith("EFAULT");
        assertThat(h.get(10)).as("the token moved with its page").endsWith("read 0x700000000200");
        assertThat(h.get(11)).endsWith("read 0x0");
        assertThat(h.get(13)).as("DONTNEED zeroes private anonymous memory").endsWith("read 0x0");
        assertThat(h.get(16)).endsWith("SEGV");
        assertThat(h.get(20)).as("shmem content moved").endsWith("read 0x700000001300");
    }

    @Test
    void watchdogFailsAStalledTestWithLockHolders() {
        Mm mm = StrategyUnderTest.parse("rwsem").newMm();
        mm.mmapAnon(0, PAGE_SIZE, PROT_READ, 0);
        MmLockGuard held = mm.mmLock().lock(LockIntent.coarse(OpKind.EXIT, LockIntent.Mode.WRITE, 0, TASK_SIZE));
        try {
            assertThatThrownBy(() -> Watchdog.run("stalls", Duration.ofMillis(500), () -> mm.procMaps()))
                    .isInstanceOf(AssertionError.class)
                    .hasMessageContaining("made no progress")
                    .hasMessageContaining("mm lock holders")
                    .hasMessageContaining("exit WRITE");
        } finally {
            held.close();
        }
    }

    @Test
    void concurrentWorkloadCatchesAStrategyWithoutLocking() {
        // Under explored schedules, not on the wall clock: a loaded 2-core host may interleave too little to show it.
        StrategyUnderTest broken = StrategyUnderTest.of(new NoLockStrategy(), Map.of());
        ScheduleExplorer.Outcome found = ScheduleExplorer.DEFAULT.explore(broken, 300, 1);
        assertThat(found.failure()).as("%s", found).isNotNull();
        assertThat(found.failure().violations() + found.failure().lostWrites() + found.failure().leaks()).isPositive();
    }

    @Test
    void exploredSchedulesCatchALocklessFaultThatNeverValidates() {
        StrategyUnderTest mutant = StrategyUnderTest.of(new NeverValidatesStrategy(), Map.of());
        ScheduleExplorer.Outcome found = ScheduleExplorer.DEFAULT.explore(mutant, 300, 1);
        assertThat(found.failingSeed()).as("%s", found).isNotNull();
        ConcurrentWorkload.Report again = ScheduleExplorer.DEFAULT.runOne(mutant, found.failingSeed());
        assertThat(again).as("the failing seed replays the failure").isEqualTo(found.failure());
        assertThat(again.interleaving()).isNotEmpty();
        assertThat(again.toString()).contains("the last switches before the first problem", "-> ");
    }

    @Test
    void exploredSchedulesPassTheStrategyTheMutantWasMadeFrom() {
        StrategyUnderTest rwsem = StrategyUnderTest.parse("rwsem");
        ScheduleExplorer.Outcome outcome = ScheduleExplorer.DEFAULT.explore(rwsem, 10, 1);
        assertThat(outcome.failure()).as("%s", outcome).isNull();
        assertThat(outcome.ops()).isPositive();
    }

    /**
     * A mutant: rwsem with a lockless fault path that never validates what it found (speculative faults without
     * their sequence counts). A fault that races an munmap maps a page the munmap already tore down.
     */
    public static final class NeverValidatesStrategy implements LockingStrategy {
        @Override
        public String name() {
            return "never-validates-mutant";
        }

        @Override
        public String description() {
            return "test mutant: rwsem whose faults take no lock and never validate";
        }

        @Override
        public List<StrategyOption> options() {
            return Strategies.discover().get("rwsem").options();
        }

        @Override
        public StrategyInstance create(StrategyConfig config, MmContext context) {
            StrategyInstance rwsem = Strategies.discover().get("rwsem").create(config, context);
            FaultAttempt unlocked = new FaultAttempt() {
                @Override
                public boolean holds(LockNeed need) {
                    return need == LockNeed.FINE;
                }

                @Override
                public boolean prepareAnon(Vma vma, Supplier<AnonIdentity> identity) {
                    return false;
                }

                @Override
                public boolean releaseForIo() {
                    return false;
                }

                @Override
                public boolean validate(PteTable table) {
                    return true; // the bug
                }
            };
            FaultHandler faults = (core, addr, access) -> {
                Vma vma = core.tree().find(addr);
                FaultResult result = vma == null ? null : core.fault(unlocked, vma, addr & PAGE_MASK, access);
                return result == null || result.isRetry() ? rwsem.faultHandler().handleFault(core, addr, access)
                        : result.outcome();
            };
            return StrategyInstance.of(rwsem.mmLock(), faults, rwsem.vmaTree());
        }
    }

    /** A mutant: every lock is granted at once, nothing is isolated. The kit must notice. */
    static final class NoLockStrategy implements LockingStrategy {
        @Override
        public String name() {
            return "no-lock-mutant";
        }

        @Override
        public String description() {
            return "test mutant that locks nothing";
        }

        @Override
        public StrategyInstance create(StrategyConfig config, MmContext context) {
            VmaTree tree = new SnapshotVmaTree();
            MmLock lock = new MmLock() {
                @Override
                public MmLockGuard lock(LockIntent intent) {
                    return new MmLockGuard() {
                        @Override
                        public LockIntent intent() {
                            return intent;
                        }

                        @Override
                        public boolean covers(long start, long end, boolean write) {
                            return true;
                        }

                        @Override
                        public CoarseHold coarseHold() {
                            return CoarseHold.WRITE;
                        }

                        @Override
                        public void startWrite(Vma vma) {}

                        @Override
                        public void close() {}
                    };
                }

                @Override
                public boolean isIdle() {
                    return true;
                }

                @Override
                public String describe() {
                    return "nothing";
                }
            };
            FaultHandler faults = new FaultHandler() {
                @Override
                public FaultOutcome handleFault(FaultCore core, long addr, Access access) {
                    MmLockGuard g = lock.lock(LockIntent.of(OpKind.FAULT, LockIntent.Mode.READ, addr & PAGE_MASK, (addr & PAGE_MASK) + PAGE_SIZE));
                    return core.fault(new HoldingFaultAttempt(g), core.tree().find(addr), addr, access).outcome();
                }
            };
            return StrategyInstance.of(lock, faults, tree);
        }
    }
}
