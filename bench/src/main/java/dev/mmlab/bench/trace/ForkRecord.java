package dev.mmlab.bench.trace;

import java.util.Objects;

/**
 * A {@code PERF_RECORD_FORK(pid:tid):(ppid:ptid)} record: task {@code tid} of process {@code pid} was
 * created by task {@code ptid} of process {@code ppid}. {@link #pid()} and {@link #tid()} are the child's.
 */
public record ForkRecord(int lineNo, String comm, int pid, int tid, long timeNs, int ppid, int ptid)
    implements TraceEvent {

  public ForkRecord {
    Objects.requireNonNull(comm, "comm");
  }

  /** A new thread in the parent's address space ({@code CLONE_THREAD}) rather than a new process. */
  public boolean isThread() {
    return pid == ppid;
  }
}
