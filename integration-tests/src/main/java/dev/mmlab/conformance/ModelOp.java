package dev.mmlab.conformance;

import static dev.mmlab.api.Linux.*;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;

/**
 * One step of a single-threaded sequence that {@link ReferenceModel} can predict exactly. Addresses are page
 * numbers inside a small window ({@link #WINDOW_PAGES} pages from {@link #WINDOW_BASE}) so that ranges collide
 * often; jqwik shrinks a failing sequence toward fewer, smaller steps.
 */
public sealed interface ModelOp {
    /** Start of the window the steps work in. */
    long WINDOW_BASE = 0x10000000L;
    /** Size of the window, in pages. */
    int WINDOW_PAGES = 16;
    /** Pages of each test file. */
    int FILE_PAGES = 40;
    /** Protections the steps use (write-only is left out: x86 makes it readable, a detail the model skips). */
    List<Integer> PROTS = List.of(PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC);

    static long addr(int page) {
        return WINDOW_BASE + page * PAGE_SIZE;
    }

    /** {@code mmap(MAP_FIXED)} of anonymous memory, private or shared. */
    record MmapAnon(int page, int pages, int prot, boolean shared) implements ModelOp {}

    /** {@code mmap(MAP_FIXED)} of file {@code file} (0: opened read-write, 1: opened read-only) at {@code pgoff}. */
    record MmapFile(int page, int pages, int prot, boolean shared, int file, int pgoff) implements ModelOp {}

    /** {@code mmap} of private anonymous memory with no address: the kernel picks it. */
    record MmapAnywhere(int pages, int prot) implements ModelOp {}

    record Munmap(int page, int pages) implements ModelOp {}

    record Mprotect(int page, int pages, int prot) implements ModelOp {}

    /** {@code madvise(MADV_DONTNEED)}. */
    record DontNeed(int page, int pages) implements ModelOp {}

    /** {@code mremap(MREMAP_MAYMOVE | MREMAP_FIXED)} to {@code newPage}. */
    record MremapMove(int page, int pages, int newPage, int newPages) implements ModelOp {}

    /** {@code mremap} without flags: shrink, or grow in place. */
    record MremapResize(int page, int pages, int newPages) implements ModelOp {}

    record Read(int page) implements ModelOp {}

    /** Writes of a token unique to the step and page to {@code pages} pages; stops at the first that faults. */
    record Write(int page, int pages) implements ModelOp {}

    /** A read of every page of the window. */
    record ReadAll() implements ModelOp {}

    /** Every kind of step with small arguments. */
    static Arbitrary<ModelOp> any() {
        Arbitrary<Integer> page = Arbitraries.integers().between(0, WINDOW_PAGES - 1).withDistribution(RandomDistribution.uniform());
        Arbitrary<Integer> len = Arbitraries.integers().between(1, 6).withDistribution(RandomDistribution.uniform());
        // Mostly writable, so that writes land and DONTNEED, mremap and COW have content to lose.
        Arbitrary<Integer> prot = Arbitraries.frequency(
                net.jqwik.api.Tuple.of(5, PROT_READ | PROT_WRITE), net.jqwik.api.Tuple.of(2, PROT_READ),
                net.jqwik.api.Tuple.of(1, PROT_NONE), net.jqwik.api.Tuple.of(1, PROT_READ | PROT_EXEC));
        Arbitrary<Boolean> bool = Arbitraries.of(false, true);
        Arbitrary<ModelOp> mmapAnon = Combinators.combine(page, len, prot, bool).as(MmapAnon::new);
        Arbitrary<ModelOp> mmapFile = Combinators.combine(page, len, prot, bool, Arbitraries.integers().between(0, 1),
                Arbitraries.integers().between(0, FILE_PAGES - 1)).as(MmapFile::new);
        Arbitrary<ModelOp> anywhere = Combinators.combine(len, prot).as(MmapAnywhere::new);
        Arbitrary<ModelOp> munmap = Combinators.combine(page, len).as(Munmap::new);
        Arbitrary<ModelOp> mprotect = Combinators.combine(page, len, prot).as(Mprotect::new);
        Arbitrary<ModelOp> dontNeed = Combinators.combine(page, len).as(DontNeed::new);
        Arbitrary<ModelOp> move = Combinators.combine(page, len, page, len).as(MremapMove::new);
        Arbitrary<ModelOp> resize = Combinators.combine(page, len, len).as(MremapResize::new);
        Arbitrary<ModelOp> read = page.map(Read::new);
        Arbitrary<ModelOp> write = Combinators.combine(page, len).as(Write::new);
        Arbitrary<ModelOp> readAll = Arbitraries.just(new ReadAll());
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, mmapAnon), net.jqwik.api.Tuple.of(3, mmapFile), net.jqwik.api.Tuple.of(1, anywhere),
                net.jqwik.api.Tuple.of(2, munmap), net.jqwik.api.Tuple.of(3, mprotect), net.jqwik.api.Tuple.of(2, dontNeed),
                net.jqwik.api.Tuple.of(2, move), net.jqwik.api.Tuple.of(2, resize), net.jqwik.api.Tuple.of(4, read),
                net.jqwik.api.Tuple.of(6, write), net.jqwik.api.Tuple.of(3, readAll));
    }
}
