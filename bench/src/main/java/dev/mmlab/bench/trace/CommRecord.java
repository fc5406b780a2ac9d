package dev.mmlab.bench.trace;

import java.util.Objects;

/**
 * A {@code PERF_RECORD_COMM[ exec]: NEWCOMM:pid/tid} record: the task's command name changed, by
 * {@code execve} when {@link #exec()} (the address space was replaced) or by {@code prctl(PR_SET_NAME)}
 * or perf's own bookkeeping otherwise.
 *
 * @param newComm the command name from now on
 * @param exec whether the change came from {@code execve}
 */
public record CommRecord(int lineNo, String comm, int pid, int tid, long timeNs, String newComm, boolean exec)
    implements TraceEvent {

  public CommRecord {
    Objects.requireNonNull(comm, "comm");
    Objects.requireNonNull(newComm, "newComm");
  }
}
