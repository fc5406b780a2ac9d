package dev.mmlab.bench.oracle;

import static dev.mmlab.api.Linux.*;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * One line of an op script: a syscall on the window, or a touch of one of its pages. Addresses are page offsets
 * in the window and lengths are page counts, so a script means the same wherever the window lies. Each op prints
 * as its canonical line ({@link #text()}, what {@link OpScript} parses) and lowers to the syscall it makes
 * ({@link #call()}, what the kernel driver and the model run).
 */
public sealed interface Op permits Op.Mmap, Op.Munmap, Op.Mprotect, Op.Mremap, Op.Madvise, Op.Mlock, Op.Munlock,
        Op.Mlockall, Op.Munlockall, Op.Touch, Op.Fork {

    /** The canonical script text: one line, or for a fork its block of lines. */
    String text();

    /** The syscall this op makes. */
    Call call();

    /** The lines the kernel driver reads for this op: its call, and for a fork the child's calls after it. */
    default List<Call> driverCalls() {
        return List.of(call());
    }

    /** Where an mmap puts its mapping: exactly there, there unless occupied (EEXIST), or there if it can. */
    enum Placement {
        FIXED(MAP_FIXED), NOREPLACE(MAP_FIXED_NOREPLACE), HINT(0);

        final int flag;

        Placement(int flag) {
            this.flag = flag;
        }
    }

    /** mmap flags a script may add, each a word after the placement. */
    enum MmapOption {
        POPULATE(MAP_POPULATE), NORESERVE(MAP_NORESERVE), GROWSDOWN(MAP_GROWSDOWN), LOCKED(MAP_LOCKED);

        final int flag;

        MmapOption(int flag) {
            this.flag = flag;
        }
    }

    /**
     * {@code mmap PAGE PAGES PROT private|shared anon|file NAME OFFSET fixed|noreplace|hint [populate] [noreserve]
     * [growsdown] [locked]}: {@code file} is null for anonymous memory, else the script name of a declared file,
     * mapped from page {@code offsetPages} of it (which may lie past its end).
     */
    record Mmap(long page, long pages, int prot, boolean shared, String file, long offsetPages, Placement placement,
            Set<MmapOption> options) implements Op {
        public Mmap {
            options = options.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(options));
        }

        /** An anonymous mapping. */
        public Mmap(long page, long pages, int prot, boolean shared, Placement placement, Set<MmapOption> options) {
            this(page, pages, prot, shared, null, 0, placement, options);
        }

        @Override
        public String text() {
            StringBuilder sb = new StringBuilder("mmap " + page + " " + pages + " " + protText(prot)
                    + (shared ? " shared" : " private") + (file == null ? " anon " : " file " + file + " "
                    + offsetPages + " ") + word(placement));
            for (MmapOption o : MmapOption.values()) {
                if (options.contains(o)) {
                    sb.append(' ').append(word(o));
                }
            }
            return sb.toString();
        }

        /** {@code mmap PAGE PAGES PROT FLAGS}, and for a file {@code OFFSET_PAGES NAME} after them. */
        @Override
        public Call call() {
            int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | (file == null ? MAP_ANONYMOUS : 0) | placement.flag;
            for (MmapOption o : options) {
                flags |= o.flag;
            }
            return file == null ? new Call("mmap", page, pages, prot, flags)
                    : new Call("mmap", new long[] {page, pages, prot, flags, offsetPages}, file);
        }
    }

    /** {@code munmap PAGE PAGES}. */
    record Munmap(long page, long pages) implements Op {
        @Override
        public String text() {
            return "munmap " + page + " " + pages;
        }

        @Override
        public Call call() {
            return new Call("munmap", page, pages);
        }
    }

    /** {@code mprotect PAGE PAGES PROT}, or {@code pkey_mprotect ...} (with key -1, the default key). */
    record Mprotect(long page, long pages, int prot, boolean pkey) implements Op {
        @Override
        public String text() {
            return (pkey ? "pkey_mprotect " : "mprotect ") + page + " " + pages + " " + protText(prot);
        }

        @Override
        public Call call() {
            return new Call(pkey ? "pkey_mprotect" : "mprotect", page, pages, prot);
        }
    }

    /**
     * {@code mremap PAGE OLD_PAGES NEW_PAGES [maymove] [dontunmap] [fixed NEW_PAGE]}; {@code newPage} is -1
     * without {@code fixed}, and then the new address passed is NULL (for {@code dontunmap} a hint of none).
     */
    record Mremap(long page, long oldPages, long newPages, boolean maymove, boolean dontunmap, long newPage)
            implements Op {
        public boolean fixed() {
            return newPage >= 0;
        }

        @Override
        public String text() {
            return "mremap " + page + " " + oldPages + " " + newPages + (maymove ? " maymove" : "")
                    + (dontunmap ? " dontunmap" : "") + (fixed() ? " fixed " + newPage : "");
        }

        @Override
        public Call call() {
            int flags = (maymove ? MREMAP_MAYMOVE : 0) | (dontunmap ? MREMAP_DONTUNMAP : 0)
                    | (fixed() ? MREMAP_FIXED : 0);
            return new Call("mremap", page, oldPages, newPages, flags, fixed() ? newPage : 0);
        }
    }

    /** {@code madvise PAGE PAGES ADVICE}. */
    record Madvise(long page, long pages, Advice advice) implements Op {
        @Override
        public String text() {
            return "madvise " + page + " " + pages + " " + advice.word();
        }

        @Override
        public Call call() {
            return new Call("madvise", page, pages, advice.value());
        }
    }

    /** {@code mlock PAGE PAGES [onfault]}: mlock2, with {@code MLOCK_ONFAULT} when asked. */
    record Mlock(long page, long pages, boolean onfault) implements Op {
        @Override
        public String text() {
            return "mlock " + page + " " + pages + (onfault ? " onfault" : "");
        }

        @Override
        public Call call() {
            return new Call("mlock2", page, pages, onfault ? MLOCK_ONFAULT : 0);
        }
    }

    /** {@code munlock PAGE PAGES}. */
    record Munlock(long page, long pages) implements Op {
        @Override
        public String text() {
            return "munlock " + page + " " + pages;
        }

        @Override
        public Call call() {
            return new Call("munlock", page, pages);
        }
    }

    /** {@code mlockall [current] [future] [onfault]}: locks the driver's whole process, not just the window. */
    record Mlockall(boolean current, boolean future, boolean onfault) implements Op {
        @Override
        public String text() {
            return "mlockall" + (current ? " current" : "") + (future ? " future" : "") + (onfault ? " onfault" : "");
        }

        @Override
        public Call call() {
            return new Call("mlockall", (current ? MCL_CURRENT : 0) | (future ? MCL_FUTURE : 0)
                    | (onfault ? MCL_ONFAULT : 0));
        }
    }

    /** {@code munlockall}. */
    record Munlockall() implements Op {
        @Override
        public String text() {
            return "munlockall";
        }

        @Override
        public Call call() {
            return new Call("munlockall");
        }
    }

    /** {@code touch PAGE read|write}: the CPU reads or writes one byte of the page. */
    record Touch(long page, boolean write) implements Op {
        @Override
        public String text() {
            return "touch " + page + (write ? " write" : " read");
        }

        @Override
        public Call call() {
            return new Call("touch", page, write ? 1 : 0);
        }
    }

    /**
     * {@code fork { OPS }}: the child runs {@code child} on its copy of the address space and exits; the parent
     * waits for it, and its later ops see nothing the child did. The driver line is {@code fork N}, N the number
     * of driver lines of the child that follow it.
     */
    record Fork(List<Op> child) implements Op {
        public Fork {
            child = List.copyOf(child);
        }

        @Override
        public String text() {
            StringBuilder sb = new StringBuilder("fork {\n");
            for (Op op : child) {
                op.text().lines().forEach(l -> sb.append("  ").append(l).append('\n'));
            }
            return sb.append('}').toString();
        }

        @Override
        public Call call() {
            return new Call("fork", driverCalls().size() - 1);
        }

        @Override
        public List<Call> driverCalls() {
            List<Call> calls = new ArrayList<>();
            for (Op op : child) {
                calls.addAll(op.driverCalls());
            }
            calls.add(0, new Call("fork", calls.size()));
            return calls;
        }
    }

    /** {@code rw-} for read and write; {@code ---} for none. */
    static String protText(int prot) {
        return ((prot & PROT_READ) != 0 ? "r" : "-") + ((prot & PROT_WRITE) != 0 ? "w" : "-")
                + ((prot & PROT_EXEC) != 0 ? "x" : "-");
    }

    static String word(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }
}
