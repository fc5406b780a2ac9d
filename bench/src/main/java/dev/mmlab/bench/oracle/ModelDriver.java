package dev.mmlab.bench.oracle;

import static dev.mmlab.api.Linux.MREMAP_FIXED;
import static dev.mmlab.api.Linux.PAGE_SHIFT;

import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.Strategies;
import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.check.Violation;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.bench.replay.MapsComparison;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an op script on the model: a fresh {@link Mm} under one strategy, the window at the kernel driver's
 * address ({@link KernelDriver#WINDOW_BASE}), each op's {@link Call} applied serially, and the answers in the
 * driver's form ({@link OracleOutput}) so the two compare line by line. The script's files are regular files of
 * their declared size on one instant block device, named by their script names; a fork is the engine's
 * ({@link Mm#fork}), its child running its ops to the end and exiting before the parent goes on, as the driver's
 * parent waits for its child.
 *
 * <p>Why not the replay's syscall switch ({@code Replayer}): it adapts calls to the traced results (a hint
 * becomes the traced address, a moving mremap becomes {@code MREMAP_FIXED} there), which is right for a replay
 * and wrong here, where the model must choose every placement itself. What is shared is the maps comparison
 * ({@link MapsComparison}).
 */
public final class ModelDriver {
    private static final Logger LOG = LoggerFactory.getLogger(ModelDriver.class);

    /** The block device the script's files live on (renumbered in the comparison, as the kernel's is). */
    private static final int FILE_MAJOR = 8;
    private static final int FILE_MINOR = 1;
    private static final long FIRST_INODE = 100;

    private ModelDriver() {}

    /** What a model run answered, and the invariant checker's findings after it (empty when the model is sound). */
    public record Result(OracleOutput output, List<String> violations) {}

    /** Runs {@code script} under {@code selected}; an engine exception is an op's result, not the end of the run. */
    public static Result run(OpScript script, Strategies.Selected selected) {
        Mm mm = Mm.create(selected, MmConfig.defaults());
        // Page i of each file holds what the engine gives a regular file's page; its number is not compared.
        BlockDevice device = BlockDevice.instant("oracle-files", FILE_MAJOR, FILE_MINOR);
        Map<String, BackingFile> files = new HashMap<>();
        long inode = FIRST_INODE;
        for (OpScript.DeclaredFile f : script.files()) {
            files.put(f.name(), BackingFile.regular(f.name(), inode++, f.pages() << PAGE_SHIFT, device, mm.allocator()));
        }
        Run run = new Run(script, files);
        OracleOutput output = run.ops(mm, script.ops(), "");
        mm.exit();
        return new Result(output, run.violations);
    }

    /** One script's run: its files, and the invariant violations found in the parent and every child. */
    private static final class Run {
        private final OpScript script;
        private final Map<String, BackingFile> files;
        private final long base = KernelDriver.WINDOW_BASE;
        private final long end;
        private final List<String> violations = new ArrayList<>();
        /** The address spaces alive now: the parent, and down to the child running; they share pages. */
        private final List<Mm> alive = new ArrayList<>();

        Run(OpScript script, Map<String, BackingFile> files) {
            this.script = script;
            this.files = files;
            this.end = base + ((long) script.windowPages() << PAGE_SHIFT);
        }

        /** Runs {@code ops} on {@code mm} and reads its window after them; {@code who} prefixes violations. */
        OracleOutput ops(Mm mm, List<Op> ops, String who) {
            alive.add(mm);
            List<String> results = new ArrayList<>();
            List<OracleOutput> children = new ArrayList<>();
            for (int i = 0; i < ops.size(); i++) {
                Op op = ops.get(i);
                String where = script.source() + (who.isEmpty() ? ":" + script.lineNos().get(i) : " " + who + "op " + (i + 1));
                if (op instanceof Op.Fork fork) {
                    results.add(fork(mm, fork, children, who, where));
                } else {
                    results.add(apply(mm, op.call(), files, base, end, where));
                }
            }
            List<MapsComparison.Line> maps = new ArrayList<>();
            List<OracleOutput.Smaps> smaps = new ArrayList<>();
            for (Mm.SmapsEntry e : mm.smaps()) {
                MapsComparison.Line l = MapsComparison.parseLine(e.header());
                if (l.start() < end && base < l.end()) {
                    long start = page(l.start(), base);
                    long stop = page(l.end(), base);
                    maps.add(OracleOutput.mapLine(start, stop, l.perms(), l.offset(), l.device(), l.inode(), l.path()));
                    smaps.add(new OracleOutput.Smaps(start, stop, e.sizeKb(), e.rssKb(), e.anonKb(), e.dirtyKb(),
                            e.locked()));
                }
            }
            // Checked with its ancestors: after a fork they share pages, and a page's references span them all.
            for (Violation v : InvariantChecker.check(alive, files.values())) {
                violations.add(who + v);
            }
            alive.remove(alive.size() - 1);
            return new OracleOutput(Map.of(), results, maps, smaps, children);
        }

        /** The engine's fork; the child runs its ops and exits before the parent goes on, as the driver waits. */
        private String fork(Mm mm, Op.Fork fork, List<OracleOutput> children, String who, String where) {
            Mm child;
            try {
                child = mm.fork();
            } catch (ErrnoException e) {
                return "err " + e.errno().name();
            } catch (RuntimeException e) {
                LOG.warn("{}: fork threw", where, e);
                return "exception " + e.getClass().getSimpleName();
            }
            children.add(ops(child, fork.child(), who + "child: "));
            child.exit();
            return OracleOutput.FORKED;
        }
    }

    /** One call, answered as the driver prints it. */
    private static String apply(Mm mm, Call c, Map<String, BackingFile> files, long base, long end, String where) {
        long[] a = c.args();
        try {
            switch (c.name()) {
                case "mmap": {
                    // The driver opens every file read-write, so any mapping of it is allowed by the mode.
                    OpenFile file = c.file() == null ? null : OpenFile.readWrite(files.get(c.file()));
                    long offset = c.file() == null ? 0 : bytes(a[4]);
                    return "ok " + where(mm.mmap(address(a[0], base), bytes(a[1]), (int) a[2], (int) a[3], file,
                            offset), base, end);
                }
                case "munmap":
                    mm.munmap(address(a[0], base), bytes(a[1]));
                    return "ok 0";
                case "mprotect":
                case "pkey_mprotect":
                    mm.mprotect(address(a[0], base), bytes(a[1]), (int) a[2]);
                    return "ok 0";
                case "mremap": {
                    int flags = (int) a[3];
                    long newAddr = (flags & MREMAP_FIXED) != 0 ? address(a[4], base) : 0;
                    return "ok " + where(mm.mremap(address(a[0], base), bytes(a[1]), bytes(a[2]), flags, newAddr),
                            base, end);
                }
                case "madvise":
                    mm.madvise(address(a[0], base), bytes(a[1]), (int) a[2]);
                    return "ok 0";
                case "mlock2":
                    mm.mlock(address(a[0], base), bytes(a[1]), (int) a[2]);
                    return "ok 0";
                case "munlock":
                    mm.munlock(address(a[0], base), bytes(a[1]));
                    return "ok 0";
                case "mlockall":
                    mm.mlockall((int) a[0]);
                    return "ok 0";
                case "munlockall":
                    mm.munlockall();
                    return "ok 0";
                case "touch":
                    return touch(mm, address(a[0], base), a[1] != 0);
                default:
                    throw new IllegalArgumentException("no model call for " + c.name());
            }
        } catch (ErrnoException e) {
            return "err " + e.errno().name();
        } catch (RuntimeException e) {
            // An engine failure is an answer that differs from the kernel's; the rest of the script still runs.
            LOG.warn("{}: {} threw", where, c, e);
            return "exception " + e.getClass().getSimpleName();
        }
    }

    private static String touch(Mm mm, long addr, boolean write) {
        try {
            if (write) {
                mm.write(addr, 1);
            } else {
                mm.read(addr);
            }
            return "mapped";
        } catch (MemoryAccessException e) {
            return e.outcome() == FaultOutcome.BUS ? "SIGBUS" : e.outcome() == FaultOutcome.OOM ? "OOM" : "SIGSEGV";
        }
    }

    private static long address(long page, long base) {
        return base + (page << PAGE_SHIFT);
    }

    private static long bytes(long pages) {
        return pages << PAGE_SHIFT;
    }

    private static long page(long address, long base) {
        return (address - base) >> PAGE_SHIFT;
    }

    /** An address result as the driver prints it: its window page, or {@code outside}. */
    private static String where(long address, long base, long end) {
        return address >= base && address < end ? Long.toString(page(address, base)) : "outside";
    }
}
