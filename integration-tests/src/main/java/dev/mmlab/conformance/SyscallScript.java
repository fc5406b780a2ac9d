package dev.mmlab.conformance;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.Access;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.MemoryAccessException;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A deterministic single-threaded program: from a seed, a sequence of syscalls, CPU reads and writes, GUP and
 * /proc reads over a small window, with arguments that are often wrong. Running it on an address space gives
 * a transcript: each call with its result or errno, /proc/pid/maps at checkpoints, and at the end the maps,
 * smaps and the content of every page of the window. Every strategy must give the same transcript byte for
 * byte: locking must not change semantics.
 */
public final class SyscallScript {
    static final long BASE = 0x20000000L;
    static final int WINDOW_PAGES = 96;

    private final long seed;
    private final int steps;

    public SyscallScript(long seed, int steps) {
        this.seed = seed;
        this.steps = steps;
    }

    /** Run the script on a fresh address space of {@code sut}; returns the transcript, one entry a line. */
    public List<String> run(StrategyUnderTest sut) {
        MmConfig config = MmConfig.defaults();
        Mm mm = sut.newMm(config);
        BlockDevice dev = BlockDevice.instant("sdb", 8, 16);
        OpenFile rw = OpenFile.readWrite(BackingFile.regular("/lib/rw.so", 2001, 64 * PAGE_SIZE, dev, config.allocator()));
        OpenFile ro = OpenFile.readOnly(BackingFile.regular("/lib/ro.so", 2002, 64 * PAGE_SIZE, dev, config.allocator()));
        SplittableRandom r = new SplittableRandom(seed);
        List<String> out = new ArrayList<>();
        mm.setStartBrk(0x555555600000L);
        out.add("stack " + hex(mm.setupStack(2)));
        for (int i = 0; i < steps; i++) {
            out.add(i + " " + step(mm, r, rw, ro, i));
            if (i % 16 == 15) {
                out.add("maps\n" + mm.procMaps());
            }
            Watchdog.progress();
        }
        out.add("maps\n" + mm.procMaps());
        out.add("smaps " + mm.smaps());
        out.add("cmdline " + call(() -> Arrays.toString(mm.readCmdline())));
        StringBuilder contents = new StringBuilder("contents");
        for (int p = 0; p < WINDOW_PAGES; p++) {
            long a = BASE + p * PAGE_SIZE;
            contents.append(' ').append(call(() -> hex(mm.read(a))));
        }
        out.add(contents.toString());
        mm.exit();
        out.add("after exit\n" + mm.procMaps());
        return out;
    }

    private static long addr(SplittableRandom r) {
        return BASE + r.nextInt(WINDOW_PAGES) * PAGE_SIZE;
    }

    private static long len(SplittableRandom r) {
        int kind = r.nextInt(20);
        if (kind == 0) {
            return 0;
        }
        if (kind == 1) {
            return r.nextInt(1, 5000);
        }
        if (kind == 2) {
            return -PAGE_SIZE;
        }
        return (1 + r.nextInt(12)) * PAGE_SIZE;
    }

    private static int prot(SplittableRandom r) {
        int[] prots = {PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC, PROT_WRITE, 0x40};
        return prots[r.nextInt(prots.length)];
    }

    private String step(Mm mm, SplittableRandom r, OpenFile rw, OpenFile ro, int i) {
        long a = addr(r);
        long len = len(r);
        int op = r.nextInt(24);
        if (op >= 20) {
            op %= 3; // more mappings: the window is otherwise mostly empty
        }
        String desc;
        switch (op) {
            case 0: case 1: {
                int prot = prot(r);
                int flags = MAP_PRIVATE | MAP_ANONYMOUS | (r.nextInt(4) == 0 ? MAP_FIXED_NOREPLACE : MAP_FIXED)
                        | (r.nextInt(6) == 0 ? MAP_POPULATE : 0) | (r.nextInt(10) == 0 ? MAP_SHARED_VALIDATE : 0);
                desc = "mmap anon " + hex(a) + " " + len + " " + prot + " " + hex(flags);
                return desc + " -> " + call(() -> hex(mm.mmap(a, len, prot, flags, null, 0)));
            }
            case 2: {
                int prot = prot(r);
                boolean shared = r.nextBoolean();
                OpenFile f = r.nextBoolean() ? rw : ro;
                long off = r.nextInt(70) * PAGE_SIZE + (r.nextInt(15) == 0 ? 100 : 0);
                int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_FIXED;
                desc = "mmap file " + f.file().path() + " " + hex(a) + " " + len + " " + prot + " " + hex(flags) + " " + off;
                return desc + " -> " + call(() -> hex(mm.mmap(a, len, prot, flags, f, off)));
            }
            case 3: {
                int prot = prot(r);
                boolean shared = r.nextInt(3) == 0;
                long hint = r.nextBoolean() ? 0 : a;
                int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;
                desc = "mmap hint " + hex(hint) + " " + len + " " + prot + " " + hex(flags);
                return desc + " -> " + call(() -> hex(mm.mmap(hint, len, prot, flags, null, 0)));
            }
            case 4: case 5:
                return "munmap " + hex(a) + " " + len + " -> " + call(() -> {
                    mm.munmap(a, len);
                    return "ok";
                });
            case 6: case 7: {
                int prot = prot(r) | (r.nextInt(12) == 0 ? PROT_GROWSDOWN : 0);
                return "mprotect " + hex(a) + " " + len + " " + hex(prot) + " -> " + call(() -> {
                    mm.mprotect(a, len, prot);
                    return "ok";
                });
            }
            case 8: {
                int[] advices = {MADV_DONTNEED, MADV_NORMAL, MADV_RANDOM, MADV_DONTFORK, MADV_WILLNEED, MADV_FREE,
                    MADV_POPULATE_READ, MADV_POPULATE_WRITE, MADV_HUGEPAGE, 5};
                int advice = advices[r.nextInt(advices.length)];
                return "madvise " + hex(a) + " " + len + " " + advice + " -> " + call(() -> {
                    mm.madvise(a, len, advice);
                    return "ok";
                });
            }
            case 9: {
                int[] flagChoices = {0, MREMAP_MAYMOVE, MREMAP_MAYMOVE | MREMAP_FIXED, MREMAP_FIXED, 8,
                    MREMAP_MAYMOVE | MREMAP_DONTUNMAP};
                int flags = flagChoices[r.nextInt(flagChoices.length)];
                long newLen = len(r);
                long newAddr = addr(r);
                return "mremap " + hex(a) + " " + len + " " + newLen + " " + flags + " " + hex(newAddr) + " -> "
                        + call(() -> hex(mm.mremap(a, len, newLen, flags, newAddr)));
            }
            case 10: {
                long delta = (r.nextInt(9) - 3) * PAGE_SIZE + (r.nextBoolean() ? 17 : 0);
                long target = mm.brkValue() + delta;
                return "brk " + hex(target) + " -> " + call(() -> hex(mm.brk(target)));
            }
            case 11: {
                int flags = r.nextInt(8) == 0 ? 2 : r.nextInt(3) == 0 ? MLOCK_ONFAULT : 0;
                boolean unlock = r.nextBoolean();
                return (unlock ? "munlock " : "mlock ") + hex(a) + " " + len + " " + flags + " -> " + call(() -> {
                    if (unlock) {
                        mm.munlock(a, len);
                    } else {
                        mm.mlock(a, len, flags);
                    }
                    return "ok";
                });
            }
            case 12: {
                int n = r.nextInt(-1, 6);
                boolean write = r.nextBoolean();
                return "gup " + hex(a) + " " + n + " " + write + " -> " + call(() -> {
                    List<Page> pinned = mm.getUserPages(a, n, write);
                    StringBuilder sb = new StringBuilder("pinned " + pinned.size());
                    for (Page p : pinned) {
                        sb.append(' ').append(hex(p.content()));
                    }
                    mm.unpinUserPages(pinned);
                    return sb.toString();
                });
            }
            case 13: case 14: case 15:
                return "read " + hex(a + 8) + " -> " + call(() -> hex(mm.read(a + 8)));
            case 16: case 17: {
                long token = 0xabc0_0000_0000L | i;
                return "write " + hex(a) + " " + hex(token) + " -> " + call(() -> {
                    mm.write(a, token);
                    return "ok";
                });
            }
            case 18: {
                long below = mm.startStack() - (1 + r.nextInt(40)) * PAGE_SIZE;
                return "fault below stack " + hex(below) + " -> " + mm.fault(below, Access.WRITE);
            }
            default:
                return "cmdline -> " + call(() -> Arrays.toString(mm.readCmdline())) + " smaps " + mm.smaps().size();
        }
    }

    /** Result of {@code body}: its text, or the errno or fault outcome it failed with. */
    static String call(java.util.function.Supplier<String> body) {
        try {
            return body.get();
        } catch (ErrnoException e) {
            return "errno " + e.errno();
        } catch (MemoryAccessException e) {
            return "fault " + e.outcome();
        }
    }

    @Override
    public String toString() {
        return "script(seed=" + seed + ", steps=" + steps + ")";
    }
}
