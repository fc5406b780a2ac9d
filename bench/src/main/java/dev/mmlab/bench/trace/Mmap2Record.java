package dev.mmlab.bench.trace;

import java.util.Objects;

/**
 * A {@code PERF_RECORD_MMAP2} side-band record: the kernel's report of a new executable or data mapping
 * (emitted for {@code mmap}, {@code mremap}, {@code brk} growth into a new VMA, exec, and with {@code -d}
 * for data mappings as well).
 *
 * @param start first address of the mapping
 * @param len length in bytes
 * @param pgoff offset in bytes ({@code vm_pgoff << PAGE_SHIFT}); for anonymous mappings the kernel's
 *     {@code vm_pgoff} is the address, so this equals {@code start} at creation
 * @param maj device major number
 * @param min device minor number
 * @param ino inode number (0 for anonymous mappings)
 * @param inoGeneration inode generation
 * @param prot protection as in {@code /proc/PID/maps}: four characters {@code [r-][w-][x-][sp]}
 * @param path the file, or a pseudo name such as {@code //anon}, {@code [stack]}, {@code [heap]},
 *     {@code [vdso]}, {@code /dev/zero (deleted)}
 */
public record Mmap2Record(
    int lineNo,
    String comm,
    int pid,
    int tid,
    long timeNs,
    long start,
    long len,
    long pgoff,
    int maj,
    int min,
    long ino,
    long inoGeneration,
    String prot,
    String path)
    implements TraceEvent {

  /** The name perf gives anonymous mappings. */
  public static final String ANON = "//anon";

  public Mmap2Record {
    Objects.requireNonNull(comm, "comm");
    Objects.requireNonNull(path, "path");
    if (prot.length() != 4) {
      throw new IllegalArgumentException("prot must have 4 characters like r-xp: '" + prot + "'");
    }
  }

  /** One past the last address of the mapping. */
  public long end() {
    return start + len;
  }

  public boolean isReadable() {
    return prot.charAt(0) == 'r';
  }

  public boolean isWritable() {
    return prot.charAt(1) == 'w';
  }

  public boolean isExecutable() {
    return prot.charAt(2) == 'x';
  }

  /** {@code MAP_SHARED} rather than {@code MAP_PRIVATE}. */
  public boolean isShared() {
    return prot.charAt(3) == 's';
  }

  /** Whether perf reported the mapping as anonymous ({@code //anon}). */
  public boolean isAnonymous() {
    return ANON.equals(path);
  }
}
