package dev.mmlab.bench.trace;

import java.util.Objects;

/**
 * One of the {@code mmap_lock} tracepoints ({@code include/trace/events/mmap_lock.h}): a thread of the traced
 * process starts taking an mm's mmap_lock, got it (or failed to), or released it. 6.18 prints
 * <pre>
 * mmap_lock:mmap_lock_start_locking: mm=0xffff88811801d780 memcg_id=4193 write=true
 * mmap_lock:mmap_lock_acquire_returned: mm=0xffff88811801d780 memcg_id=4193 write=true success=true
 * mmap_lock:mmap_lock_released: mm=0xffff88811801d780 memcg_id=4193 write=false
 * </pre>
 * (older kernels print {@code memcg_path=PATH} instead of {@code memcg_id=ID}; neither is kept). The order of the
 * successful {@link Kind#ACQUIRED} events is the order in which the kernel let the threads' syscalls in, which
 * file order (sys_enter order) is not when a thread queues for the lock.
 *
 * @param mm the {@code mm_struct} address as printed: it tells the traced process's own lock from another's
 * @param write the write (exclusive) side; a {@link Kind#RELEASED} with {@code write == false} after a write
 *     acquisition is a downgrade's read release (munmap)
 * @param success for {@link Kind#ACQUIRED}: whether the lock was taken (a trylock or a killable wait may fail);
 *     true for the other kinds
 */
public record MmapLockEvent(
    int lineNo, String comm, int pid, int tid, long timeNs, Kind kind, long mm, boolean write, boolean success)
    implements TraceEvent {

  /** Which of the three tracepoints. */
  public enum Kind {
    /** {@code mmap_lock_start_locking}: about to wait for the lock (a trylock has no such event). */
    START,
    /** {@code mmap_lock_acquire_returned}: the lock was granted, or the attempt failed ({@code success}). */
    ACQUIRED,
    /** {@code mmap_lock_released}. */
    RELEASED
  }

  public MmapLockEvent {
    Objects.requireNonNull(comm, "comm");
    Objects.requireNonNull(kind, "kind");
  }

  /** Whether this is the moment the thread got the lock. */
  public boolean granted() {
    return kind == Kind.ACQUIRED && success;
  }
}
