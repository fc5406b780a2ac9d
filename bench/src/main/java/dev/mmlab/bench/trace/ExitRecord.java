package dev.mmlab.bench.trace;

import java.util.Objects;

/**
 * A {@code PERF_RECORD_EXIT(pid:tid):(ppid:ptid)} record: task {@code tid} of process {@code pid} exited.
 * The process's address space goes away when its last thread exits.
 */
public record ExitRecord(int lineNo, String comm, int pid, int tid, long timeNs, int ppid, int ptid)
    implements TraceEvent {

  public ExitRecord {
    Objects.requireNonNull(comm, "comm");
  }
}
