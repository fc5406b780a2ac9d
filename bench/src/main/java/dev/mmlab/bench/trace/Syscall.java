package dev.mmlab.bench.trace;

import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSet;
import java.util.Map;
import java.util.Objects;

/**
 * One address-space syscall: a {@code syscalls:sys_enter_NAME} line paired with the next
 * {@code syscalls:sys_exit_NAME} line of the same thread.
 *
 * <p>Argument values are as the tracepoint printed them: every argument is printed as an unsigned long,
 * so an {@code int} argument of -1 (the {@code fd} of an anonymous {@code mmap}) appears as
 * {@code 0xffffffff}; use {@link #argInt(String)} for those. Argument names are the kernel's
 * {@code SYSCALL_DEFINE} parameter names, e.g. {@code madvise(start, len_in, behavior)},
 * {@code mprotect(start, len, prot)}, {@code munmap(addr, len)},
 * {@code mremap(addr, old_len, new_len, flags, new_addr)}.
 *
 * @param lineNo line of the enter
 * @param timeNs time of the enter
 * @param name syscall name without prefix, e.g. {@code "mmap"}
 * @param args arguments in the order printed, name to value
 * @param ret return value as a signed 64-bit number: an address or count, or {@code -errno}
 * @param exitLineNo line of the exit
 * @param exitTimeNs time of the exit
 */
public record Syscall(
    int lineNo,
    String comm,
    int pid,
    int tid,
    long timeNs,
    String name,
    Map<String, Long> args,
    long ret,
    int exitLineNo,
    long exitTimeNs)
    implements TraceEvent {

  /**
   * Number of arguments of each traced syscall (x86-64 {@code SYSCALL_DEFINEn}); the parser rejects an
   * enter line with another count, which catches lines cut short. Names are not checked: they differ
   * between kernel versions (e.g. {@code madvise}'s {@code len} became {@code len_in}).
   */
  static final ImmutableMap<String, Integer> ARITY =
      ImmutableMap.<String, Integer>builder()
          .put("mmap", 6) // addr, len, prot, flags, fd, off
          .put("munmap", 2) // addr, len
          .put("mprotect", 3) // start, len, prot
          .put("pkey_mprotect", 4) // start, len, prot, pkey
          .put("brk", 1) // brk
          .put("madvise", 3) // start, len_in, behavior
          .put("mremap", 5) // addr, old_len, new_len, flags, new_addr
          .put("mlock", 2) // start, len
          .put("mlock2", 3) // start, len, flags
          .put("munlock", 2) // start, len
          .put("mlockall", 1) // flags
          .put("munlockall", 0)
          .build();

  /** The syscalls whose enter/exit tracepoints are imported; others are ignored like unknown events. */
  public static final ImmutableSet<String> TRACED = ARITY.keySet();

  /** The kernel's {@code MAX_ERRNO}: return values in {@code [-4095, -1]} are errors. */
  public static final int MAX_ERRNO = 4095;

  public Syscall {
    Objects.requireNonNull(comm, "comm");
    Objects.requireNonNull(name, "name");
    args = ImmutableMap.copyOf(args);
  }

  /**
   * The value of argument {@code argName}.
   *
   * @throws IllegalArgumentException if this call has no such argument; the message lists the ones it has
   */
  public long arg(String argName) {
    Long value = args.get(argName);
    if (value == null) {
      throw new IllegalArgumentException(
          name + " at line " + lineNo + " has no argument '" + argName + "'; it has " + args.keySet());
    }
    return value;
  }

  /** The value of an {@code int} argument (e.g. {@code fd}), truncated to 32 bits so that -1 reads as -1. */
  public int argInt(String argName) {
    return (int) arg(argName);
  }

  /** Whether the call failed: the kernel returned a value in {@code [-MAX_ERRNO, -1]}. */
  public boolean failed() {
    return ret < 0 && ret >= -MAX_ERRNO;
  }

  /** The errno of a failed call (e.g. 12 for ENOMEM), or 0 if it succeeded. */
  public int errno() {
    return failed() ? (int) -ret : 0;
  }

  /** Time between enter and exit in nanoseconds. */
  public long durationNs() {
    return exitTimeNs - timeNs;
  }
}
