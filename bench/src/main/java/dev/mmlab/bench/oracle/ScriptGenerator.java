package dev.mmlab.bench.oracle;

import dev.mmlab.bench.oracle.Op.MmapOption;
import dev.mmlab.bench.oracle.Op.Placement;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * Random op scripts for the fuzzer: each op is drawn uniformly from the chosen families, then its arguments:
 * a range of 1 to {@link #MAX_PAGES} pages anywhere in the window, a random protection, and the family's flags
 * at the rates below (chosen so every flag appears in a few hundred ops without drowning the common case). The
 * same seed gives the same scripts.
 */
public final class ScriptGenerator {
    /** Longest range an op covers, in pages (the held-out cases use up to 24). */
    public static final int MAX_PAGES = 24;

    /** A family of ops, named as {@code --families} takes them. */
    public enum Family {
        MMAP, MUNMAP, MPROTECT, MREMAP, MADVISE, MLOCK, TOUCH, FILE, FORK;

        /** Every family's word, comma-separated: what {@code --families} knows. */
        public static String known() {
            StringBuilder sb = new StringBuilder();
            for (Family f : values()) {
                sb.append(sb.length() == 0 ? "" : ",").append(f.word());
            }
            return sb.toString();
        }

        public String word() {
            return name().toLowerCase(Locale.ROOT);
        }

        /**
         * The family {@code op} belongs to: mlock, munlock, mlockall and munlockall are all {@code mlock}; an mmap
         * of a file is {@code file}; a fork (with its child's ops) is {@code fork}.
         */
        public static Family of(Op op) {
            if (op instanceof Op.Mmap m) {
                return m.file() == null ? MMAP : FILE;
            } else if (op instanceof Op.Fork) {
                return FORK;
            } else if (op instanceof Op.Munmap) {
                return MUNMAP;
            } else if (op instanceof Op.Mprotect) {
                return MPROTECT;
            } else if (op instanceof Op.Mremap) {
                return MREMAP;
            } else if (op instanceof Op.Madvise) {
                return MADVISE;
            } else if (op instanceof Op.Touch) {
                return TOUCH;
            }
            return MLOCK;
        }

        /**
         * Parses a comma-separated list ({@code mmap,munmap,touch}).
         *
         * @throws IllegalArgumentException naming the unknown family and the known ones
         */
        public static List<Family> parseList(String text) {
            List<Family> out = new ArrayList<>();
            for (String w : text.split(",")) {
                Family found = null;
                for (Family f : values()) {
                    if (f.word().equals(w.strip())) {
                        found = f;
                    }
                }
                if (found == null) {
                    throw new IllegalArgumentException("unknown op family '" + w.strip() + "'; known: " + known());
                }
                if (!out.contains(found)) {
                    out.add(found);
                }
            }
            return out;
        }
    }

    /** How many files a script with the {@code file} family declares, F1 to F3. */
    public static final int FILES = 3;
    /** Most ops a fork's child runs. */
    public static final int MAX_CHILD_OPS = 4;

    private final Random random;
    private final int windowPages;
    private final List<Family> families;
    /** What a child runs: every chosen family but fork (a child does not fork again), or all but fork if none. */
    private final List<Family> childFamilies;

    public ScriptGenerator(long seed, int windowPages, List<Family> families) {
        if (windowPages < MAX_PAGES || families.isEmpty()) {
            throw new IllegalArgumentException("a window of at least " + MAX_PAGES + " pages and one family are needed");
        }
        this.random = new Random(seed);
        this.windowPages = windowPages;
        this.families = List.copyOf(families);
        List<Family> child = new ArrayList<>(families);
        child.remove(Family.FORK);
        if (child.isEmpty()) {
            child.addAll(List.of(Family.values()));
            child.remove(Family.FORK);
            child.remove(Family.FILE);
        }
        this.childFamilies = List.copyOf(child);
    }

    /**
     * The next script, of {@code ops} ops, named {@code name}. With the {@code file} family it declares
     * {@link #FILES} files of 1 to {@link #MAX_PAGES} pages first.
     */
    public OpScript next(String name, int ops) {
        List<OpScript.DeclaredFile> files = new ArrayList<>();
        if (families.contains(Family.FILE)) {
            for (int i = 1; i <= FILES; i++) {
                files.add(new OpScript.DeclaredFile("F" + i, 1 + random.nextInt(MAX_PAGES)));
            }
        }
        List<Op> out = new ArrayList<>();
        for (int i = 0; i < ops; i++) {
            out.add(op(families.get(random.nextInt(families.size())), files));
        }
        return OpScript.of(name, windowPages, files, out);
    }

    private Op op(Family family, List<OpScript.DeclaredFile> files) {
        long pages = 1 + random.nextInt(MAX_PAGES);
        long page = random.nextInt((int) (windowPages - pages + 1));
        switch (family) {
            case MMAP:
                return new Op.Mmap(page, pages, prot(), chance(20), placement(), mmapOptions());
            case FILE: {
                // Private and shared alike; an offset past the file's end one time in four (SIGBUS on touch).
                OpScript.DeclaredFile f = files.get(random.nextInt(files.size()));
                long offset = chance(75) ? random.nextInt((int) f.pages()) : f.pages() + random.nextInt(8);
                return new Op.Mmap(page, pages, prot(), chance(50), f.name(), offset, placement(), mmapOptions());
            }
            case FORK: {
                List<Op> child = new ArrayList<>();
                int n = 1 + random.nextInt(MAX_CHILD_OPS);
                for (int i = 0; i < n; i++) {
                    Family cf = childFamilies.get(random.nextInt(childFamilies.size()));
                    child.add(op(cf == Family.FILE && files.isEmpty() ? Family.MMAP : cf, files));
                }
                return new Op.Fork(child);
            }
            case MUNMAP:
                return new Op.Munmap(page, pages);
            case MPROTECT:
                return new Op.Mprotect(page, pages, prot(), chance(10));
            case MREMAP: {
                long newPages = 1 + random.nextInt(MAX_PAGES);
                long oldPages = Math.min(pages, windowPages - page);
                newPages = Math.min(newPages, windowPages - page);
                boolean maymove = chance(50);
                long newPage = maymove && chance(40) ? random.nextInt((int) (windowPages - newPages + 1)) : -1;
                return new Op.Mremap(page, oldPages, newPages, maymove, maymove && chance(15), newPage);
            }
            case MADVISE:
                return new Op.Madvise(page, pages, Advice.values()[random.nextInt(Advice.values().length)]);
            case MLOCK: {
                int which = random.nextInt(10);
                if (which < 4) {
                    return new Op.Mlock(page, pages, chance(30));
                } else if (which < 8) {
                    return new Op.Munlock(page, pages);
                } else if (which < 9) {
                    return new Op.Mlockall(true, chance(50), chance(30));
                }
                return new Op.Munlockall();
            }
            case TOUCH:
                return new Op.Touch(page, chance(50));
            default:
                throw new IllegalStateException("family " + family);
        }
    }

    private Placement placement() {
        return chance(60) ? Placement.FIXED : chance(50) ? Placement.NOREPLACE : Placement.HINT;
    }

    private Set<MmapOption> mmapOptions() {
        Set<MmapOption> options = EnumSet.noneOf(MmapOption.class);
        if (chance(10)) {
            options.add(MmapOption.POPULATE);
        }
        if (chance(10)) {
            options.add(MmapOption.NORESERVE);
        }
        if (chance(5)) {
            options.add(MmapOption.GROWSDOWN);
        }
        if (chance(5)) {
            options.add(MmapOption.LOCKED);
        }
        return options;
    }

    /** Read and write most often, then none, then the rest. */
    private int prot() {
        int[] prots = {3, 3, 3, 1, 1, 0, 0, 5, 7, 2, 4, 6};
        return prots[random.nextInt(prots.length)];
    }

    private boolean chance(int percent) {
        return random.nextInt(100) < percent;
    }
}
