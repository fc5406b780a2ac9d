package dev.mmlab.conformance;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.Errno;
import dev.mmlab.api.FaultOutcome;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;

/**
 * Calls that are wrong in exactly one way, each with the errno (or fault outcome) Linux gives it, generated
 * over an address space in a known state ({@link Env}). Each must fail that way and change nothing.
 */
public final class BadInput {
    private BadInput() {}

    /** The known state a bad call runs against: a private anonymous VMA with content, and a read-only file mapped shared. */
    public static final class Env {
        public static final long ANON = 0x30000000L;
        public static final int ANON_PAGES = 16;
        /** A free page between the two VMAs. */
        public static final long GAP = ANON + 64 * PAGE_SIZE;
        public static final long RO_FILE = ANON + (1L << 20);
        public static final int RO_PAGES = 8;

        public final Mm mm;
        public final OpenFile roFile;
        public final OpenFile rwFile;

        Env(StrategyUnderTest sut) {
            MmConfig config = MmConfig.defaults();
            mm = sut.newMm(config);
            BlockDevice dev = BlockDevice.instant("sdc", 8, 32);
            roFile = OpenFile.readOnly(BackingFile.regular("/etc/ro.conf", 4001, 16 * PAGE_SIZE, dev, config.allocator()));
            rwFile = OpenFile.readWrite(BackingFile.regular("/var/rw.db", 4002, 16 * PAGE_SIZE, dev, config.allocator()));
            mm.mmap(ANON, ANON_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0);
            for (int i = 0; i < ANON_PAGES; i++) {
                mm.write(ANON + i * PAGE_SIZE, 0xbad0000L + i);
            }
            mm.mmap(RO_FILE, RO_PAGES * PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_FIXED, roFile, 0);
            mm.read(RO_FILE);
        }

        /** What must not change: the maps text, brk and every page's content. */
        public String state() {
            StringBuilder sb = new StringBuilder(mm.procMaps()).append("brk ").append(hex(mm.brkValue()));
            for (int i = 0; i < ANON_PAGES; i++) {
                sb.append(' ').append(hex(mm.read(ANON + i * PAGE_SIZE)));
            }
            sb.append(' ').append(hex(mm.read(RO_FILE)));
            return sb.toString();
        }
    }

    /** A call wrong in one way, with the error it must give: an errno, a fault outcome, or neither (brk). */
    public record Call(String description, Errno errno, FaultOutcome fault, Consumer<Env> body) {
        @Override
        public String toString() {
            return description + " -> " + (errno != null ? errno : fault != null ? fault : "refused");
        }
    }

    private static Call errno(String d, Errno e, Consumer<Env> body) {
        return new Call(d, e, null, body);
    }

    /** Every kind of bad call, with its numbers drawn (and shrunk) by jqwik. */
    public static Arbitrary<Call> calls() {
        Arbitrary<Long> offInPage = Arbitraries.longs().between(1, PAGE_SIZE - 1);
        Arbitrary<Integer> pages = Arbitraries.integers().between(1, 32);
        Arbitrary<Long> negative = Arbitraries.longs().between(-(1L << 40), -1);
        // 8 is MAP_DROPPABLE since Linux 6.11: left out.
        Arbitrary<Integer> badType = Arbitraries.of(0, 4, 5, 6, 7, 12, 15);
        List<Integer> unknownMapBits = new ArrayList<>();
        // Bits 26 and up are MAP_UNINITIALIZED and the hugetlb size field, which Linux's LEGACY_MAP_MASK accepts.
        for (int b = 0; b < 26; b++) {
            if (((1 << b) & MAP_KNOWN) == 0) {
                unknownMapBits.add(1 << b);
            }
        }
        Arbitrary<Integer> unknownMapBit = Arbitraries.of(unknownMapBits);
        Arbitrary<Integer> unknownProt = Arbitraries.integers().between(4, 23).map(b -> 1 << b);
        // 24, 25 (DONTNEED_LOCKED, COLLAPSE) and 100+ (HWPOISON, SOFT_OFFLINE, GUARD_*) exist in Linux: left out.
        Arbitrary<Integer> unknownAdvice = Arbitraries.of(5, 6, 7, 40, 64, 99, 1000, -1);
        Arbitrary<Integer> unknownMremap = Arbitraries.integers().between(3, 30).map(b -> 1 << b);
        Arbitrary<Integer> unknownMlock = Arbitraries.integers().between(1, 30).map(b -> 1 << b);
        Arbitrary<Long> belowMin = Arbitraries.longs().between(0, MMAP_MIN_ADDR / PAGE_SIZE - 1).map(p -> p * PAGE_SIZE);
        long a = Env.ANON;
        long g = Env.GAP;
        long ro = Env.RO_FILE;
        List<Arbitrary<Call>> all = List.of(
                // mmap
                Arbitraries.just(errno("mmap len 0", Errno.EINVAL, e -> e.mm.mmap(g, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0))),
                offInPage.map(o -> errno("mmap MAP_FIXED unaligned addr +" + o, Errno.EINVAL,
                        e -> e.mm.mmap(g + o, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0))),
                offInPage.map(o -> errno("mmap file unaligned offset " + o, Errno.EINVAL,
                        e -> e.mm.mmap(g, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED, e.rwFile, o))),
                badType.map(t -> errno("mmap type " + t, Errno.EINVAL,
                        e -> e.mm.mmap(g, PAGE_SIZE, PROT_READ, t | MAP_ANONYMOUS | MAP_FIXED, null, 0))),
                // do_mmap: MAP_SHARED_VALIDATE checks the flags of a file mapping against LEGACY_MAP_MASK
                // (EOPNOTSUPP); its switch for anonymous memory has no MAP_SHARED_VALIDATE case (EINVAL).
                unknownMapBit.map(b -> errno("mmap file MAP_SHARED_VALIDATE unknown flag " + hex(b), Errno.EOPNOTSUPP,
                        e -> e.mm.mmap(g, PAGE_SIZE, PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED | b, e.rwFile, 0))),
                Arbitraries.of(0, MAP_POPULATE, MAP_LOCKED, 0x400).map(b -> errno("mmap anonymous MAP_SHARED_VALIDATE "
                        + hex(b), Errno.EINVAL,
                        e -> e.mm.mmap(g, PAGE_SIZE, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | MAP_FIXED | b, null, 0))),
                pages.map(n -> errno("mmap MAP_FIXED past TASK_SIZE by " + n + " pages", Errno.ENOMEM,
                        e -> e.mm.mmap(TASK_SIZE - PAGE_SIZE, (1 + n) * PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0))),
                belowMin.map(addr -> errno("mmap MAP_FIXED below mmap_min_addr at " + hex(addr), Errno.EPERM,
                        e -> e.mm.mmap(addr, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, null, 0))),
                negative.map(n -> errno("mmap negative length " + n, Errno.ENOMEM,
                        e -> e.mm.mmap(0, n, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, null, 0))),
                pages.map(n -> errno("mmap MAP_FIXED_NOREPLACE over a mapping, " + n + " pages", Errno.EEXIST,
                        e -> e.mm.mmap(a, n * PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, null, 0))),
                Arbitraries.just(errno("mmap of a file without a file", Errno.EBADF,
                        e -> e.mm.mmap(g, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED, null, 0))),
                Arbitraries.just(errno("mmap MAP_SHARED PROT_WRITE of a read-only file", Errno.EACCES,
                        e -> e.mm.mmap(g, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, e.roFile, 0))),
                Arbitraries.just(errno("mmap MAP_GROWSDOWN of a file", Errno.EINVAL,
                        e -> e.mm.mmap(g, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED | MAP_GROWSDOWN, e.rwFile, 0))),
                Arbitraries.just(errno("mmap MAP_GROWSDOWN of shared memory", Errno.EINVAL,
                        e -> e.mm.mmap(g, PAGE_SIZE, PROT_READ, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, null, 0))),
                negative.map(n -> errno("mmap file negative offset " + hex(n * PAGE_SIZE), Errno.EOVERFLOW,
                        e -> e.mm.mmap(g, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_FIXED, e.rwFile, n * PAGE_SIZE))),
                // munmap
                offInPage.map(o -> errno("munmap unaligned +" + o, Errno.EINVAL, e -> e.mm.munmap(a + o, PAGE_SIZE))),
                Arbitraries.just(errno("munmap len 0", Errno.EINVAL, e -> e.mm.munmap(a, 0))),
                negative.map(n -> errno("munmap negative length " + n, Errno.EINVAL, e -> e.mm.munmap(a, n))),
                pages.map(n -> errno("munmap past TASK_SIZE by " + n + " pages", Errno.EINVAL,
                        e -> e.mm.munmap(TASK_SIZE - PAGE_SIZE, (1 + n) * PAGE_SIZE))),
                negative.map(n -> errno("munmap negative address", Errno.EINVAL, e -> e.mm.munmap(n * PAGE_SIZE, PAGE_SIZE))),
                // mprotect
                offInPage.map(o -> errno("mprotect unaligned +" + o, Errno.EINVAL, e -> e.mm.mprotect(a + o, PAGE_SIZE, PROT_READ))),
                unknownProt.filter(p -> p != PROT_SEM).map(p -> errno("mprotect unknown prot " + hex(p), Errno.EINVAL,
                        e -> e.mm.mprotect(a, PAGE_SIZE, PROT_READ | p))),
                Arbitraries.just(errno("mprotect GROWSDOWN|GROWSUP", Errno.EINVAL,
                        e -> e.mm.mprotect(a, PAGE_SIZE, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP))),
                pages.map(n -> errno("mprotect wrapping range", Errno.ENOMEM, e -> e.mm.mprotect(a, -n * PAGE_SIZE, PROT_READ))),
                pages.map(n -> errno("mprotect of a hole, " + n + " pages", Errno.ENOMEM, e -> e.mm.mprotect(g, n * PAGE_SIZE, PROT_READ))),
                pages.map(n -> errno("mprotect PROT_WRITE on a read-only shared file, " + n + " pages", Errno.EACCES,
                        e -> e.mm.mprotect(ro, Math.min(n, Env.RO_PAGES) * PAGE_SIZE, PROT_READ | PROT_WRITE))),
                Arbitraries.just(errno("mprotect PROT_GROWSDOWN on a VMA that does not grow down", Errno.EINVAL,
                        e -> e.mm.mprotect(a, PAGE_SIZE, PROT_READ | PROT_GROWSDOWN))),
                // madvise
                offInPage.map(o -> errno("madvise unaligned +" + o, Errno.EINVAL, e -> e.mm.madvise(a + o, PAGE_SIZE, MADV_DONTNEED))),
                unknownAdvice.map(v -> errno("madvise unknown advice " + v, Errno.EINVAL, e -> e.mm.madvise(a, PAGE_SIZE, v))),
                negative.map(n -> errno("madvise negative length " + n, Errno.EINVAL, e -> e.mm.madvise(a, n, MADV_DONTNEED))),
                pages.map(n -> errno("madvise DONTNEED of a hole, " + n + " pages", Errno.ENOMEM,
                        e -> e.mm.madvise(g, n * PAGE_SIZE, MADV_DONTNEED))),
                // mremap
                unknownMremap.map(f -> errno("mremap unknown flag " + f, Errno.EINVAL,
                        e -> e.mm.mremap(a, PAGE_SIZE, PAGE_SIZE, f | MREMAP_MAYMOVE, 0))),
                Arbitraries.just(errno("mremap FIXED without MAYMOVE", Errno.EINVAL, e -> e.mm.mremap(a, PAGE_SIZE, PAGE_SIZE, MREMAP_FIXED, g))),
                Arbitraries.just(errno("mremap DONTUNMAP without MAYMOVE", Errno.EINVAL, e -> e.mm.mremap(a, PAGE_SIZE, PAGE_SIZE, MREMAP_DONTUNMAP, 0))),
                offInPage.map(o -> errno("mremap unaligned old +" + o, Errno.EINVAL, e -> e.mm.mremap(a + o, PAGE_SIZE, 2 * PAGE_SIZE, MREMAP_MAYMOVE, 0))),
                Arbitraries.just(errno("mremap new length 0", Errno.EINVAL, e -> e.mm.mremap(a, PAGE_SIZE, 0, MREMAP_MAYMOVE, 0))),
                pages.map(n -> errno("mremap DONTUNMAP with a new length", Errno.EINVAL,
                        e -> e.mm.mremap(a, PAGE_SIZE, (1 + n) * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0))),
                pages.map(n -> errno("mremap FIXED onto itself, overlap " + n, Errno.EINVAL,
                        e -> e.mm.mremap(a, 4 * PAGE_SIZE, 4 * PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, a + (n % 4) * PAGE_SIZE))),
                offInPage.map(o -> errno("mremap FIXED unaligned target +" + o, Errno.EINVAL,
                        e -> e.mm.mremap(a, PAGE_SIZE, PAGE_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, g + o))),
                pages.map(n -> errno("mremap of a hole", Errno.EFAULT, e -> e.mm.mremap(g, n * PAGE_SIZE, 2 * n * PAGE_SIZE, MREMAP_MAYMOVE, 0))),
                pages.map(n -> errno("mremap of more than one mapping", Errno.EFAULT,
                        e -> e.mm.mremap(a, (Env.ANON_PAGES + n) * PAGE_SIZE, (Env.ANON_PAGES + n + 1) * PAGE_SIZE, MREMAP_MAYMOVE, 0))),
                pages.map(n -> errno("mremap grow into a mapping without MAYMOVE", Errno.ENOMEM,
                        e -> e.mm.mremap(a, Env.ANON_PAGES * PAGE_SIZE, (1L << 20) + n * PAGE_SIZE, 0, 0))),
                pages.map(n -> errno("mremap shrink whose old range passes TASK_SIZE", Errno.EINVAL,
                        e -> e.mm.mremap(a, TASK_SIZE - a + n * PAGE_SIZE, PAGE_SIZE, 0, 0))),
                // mlock
                unknownMlock.map(f -> errno("mlock2 unknown flag " + f, Errno.EINVAL, e -> e.mm.mlock(a, PAGE_SIZE, f))),
                pages.map(n -> errno("mlock of a hole", Errno.ENOMEM, e -> e.mm.mlock(g, n * PAGE_SIZE, 0))),
                Arbitraries.of(0, 8, MCL_ONFAULT, 16).map(f -> errno("mlockall flags " + f, Errno.EINVAL, e -> e.mm.mlockall(f))),
                // get_user_pages
                offInPage.map(o -> errno("GUP unaligned +" + o, Errno.EINVAL, e -> e.mm.getUserPages(a + o, 1, false))),
                Arbitraries.integers().between(-5, 0).map(n -> errno("GUP of " + n + " pages", Errno.EINVAL, e -> e.mm.getUserPages(a, n, false))),
                pages.map(n -> errno("GUP past TASK_SIZE", Errno.EINVAL, e -> e.mm.getUserPages(TASK_SIZE - PAGE_SIZE, 1 + n, false))),
                pages.map(n -> errno("GUP of a hole", Errno.EFAULT, e -> e.mm.getUserPages(g, n, false))),
                pages.map(n -> errno("GUP for write of a read-only mapping", Errno.EFAULT, e -> e.mm.getUserPages(ro, Math.min(n, Env.RO_PAGES), true))),
                // CPU accesses
                offInPage.map(o -> new Call("read of a hole +" + o, null, FaultOutcome.SEGV, e -> e.mm.read(g + o))),
                offInPage.map(o -> new Call("write to a read-only mapping +" + o, null, FaultOutcome.ACCESS, e -> e.mm.write(ro + o, 1))),
                negative.map(n -> new Call("read of a negative address", null, FaultOutcome.SEGV, e -> e.mm.read(n))),
                pages.map(n -> new Call("read past TASK_SIZE", null, FaultOutcome.SEGV, e -> e.mm.read(TASK_SIZE + n * PAGE_SIZE))),
                // brk: refused requests return the old break
                negative.map(n -> new Call("brk below the heap start", null, null, e -> {
                    long before = e.mm.brkValue();
                    long got = e.mm.brk(e.mm.startBrk() + n);
                    if (got != before) {
                        throw new AssertionError("brk below start_brk returned " + hex(got) + ", not the old break " + hex(before));
                    }
                })));
        return Arbitraries.oneOf(all);
    }
}
