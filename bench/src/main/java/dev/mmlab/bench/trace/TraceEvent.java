package dev.mmlab.bench.trace;

/**
 * One event of an imported trace. Implementations are immutable records.
 *
 * <p>{@link #comm()} and {@link #timeNs()} come from the line's sample header. {@link #pid()} and
 * {@link #tid()} name the task the event is about: for samples (syscalls, page faults) that is the
 * header's task; for side-band records it is the task named inside the record ({@code PERF_RECORD_MMAP2
 * pid/tid}, the child of a fork, the task of a comm change or exit), because perf prints synthesized
 * records with a header of {@code 0/0} and fork records with the parent's header.
 */
public sealed interface TraceEvent
    permits Syscall, PageFault, Mmap2Record, ForkRecord, ExitRecord, CommRecord, MmapLockEvent {

  /** 1-based line of the trace file this event was read from (for a {@link Syscall}, its enter line). */
  int lineNo();

  /** The command name perf printed in the sample header (at most 15 characters, may contain spaces). */
  String comm();

  /** Process id (thread group id) of the task the event is about. */
  int pid();

  /** Thread id of the task the event is about. */
  int tid();

  /** Timestamp in nanoseconds, from perf's {@code seconds.fraction} (usually microsecond precision). */
  long timeNs();
}
