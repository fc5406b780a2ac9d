package dev.mmlab.bench.trace;

import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableListMultimap;
import com.google.common.collect.ImmutableMap;
import com.google.common.collect.ImmutableSetMultimap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An imported trace: its events in file order, grouped by process. Immutable.
 *
 * <p>A {@link Syscall} sits at the position of its enter line. Events are grouped by
 * {@link TraceEvent#pid()}, so a process's fork record, its side-band records and its samples land in
 * one group even when perf printed some of them with another header.
 */
public final class Trace {
  private final String source;
  private final int lineCount;
  private final ImmutableList<TraceEvent> events;
  private final ImmutableListMultimap<Integer, TraceEvent> eventsByPid;
  private final ImmutableSetMultimap<Integer, Integer> tidsByPid;
  private final int defaultPid;
  private final ImmutableMap<String, Integer> ignoredEvents;
  private final int skippedLines;
  private final int errorCount;
  private final ImmutableList<String> errors;

  Trace(
      String source,
      int lineCount,
      List<TraceEvent> events,
      Map<String, Integer> ignoredEvents,
      int skippedLines,
      int errorCount,
      List<String> errors) {
    this.source = source;
    this.lineCount = lineCount;
    this.events = ImmutableList.copyOf(events);
    this.ignoredEvents = ImmutableMap.copyOf(ignoredEvents);
    this.skippedLines = skippedLines;
    this.errorCount = errorCount;
    this.errors = ImmutableList.copyOf(errors);

    ImmutableListMultimap.Builder<Integer, TraceEvent> byPid = ImmutableListMultimap.builder();
    ImmutableSetMultimap.Builder<Integer, Integer> tids = ImmutableSetMultimap.builder();
    for (TraceEvent e : this.events) {
      byPid.put(e.pid(), e);
      tids.put(e.pid(), e.tid());
    }
    this.eventsByPid = byPid.build();
    this.tidsByPid = tids.build();

    // Most events wins; a tie goes to the pid seen first (the multimap keeps first-appearance order).
    int best = -1;
    int bestCount = -1;
    for (int pid : eventsByPid.keySet()) {
      int count = eventsByPid.get(pid).size();
      if (count > bestCount) {
        best = pid;
        bestCount = count;
      }
    }
    this.defaultPid = best;
  }

  /** The file name (or the name given to {@link TraceParser#parse(java.io.Reader, String, boolean)}). */
  public String source() {
    return source;
  }

  /** Number of lines read, including ignored, skipped and blank ones. */
  public int lineCount() {
    return lineCount;
  }

  /** Every imported event, in file order. */
  public List<TraceEvent> events() {
    return events;
  }

  /** The events of one kind, in file order. */
  public <T extends TraceEvent> List<T> eventsOfType(Class<T> kind) {
    return events.stream().filter(kind::isInstance).map(kind::cast).collect(ImmutableList.toImmutableList());
  }

  /** The process ids that have events, in order of first appearance. */
  public Set<Integer> pids() {
    return eventsByPid.keySet();
  }

  /** The events of process {@code pid} in file order; empty if it has none. */
  public List<TraceEvent> eventsOf(int pid) {
    return eventsByPid.get(pid);
  }

  /** The thread ids seen in process {@code pid}, in order of first appearance; empty if it has none. */
  public Set<Integer> tidsOf(int pid) {
    return tidsByPid.get(pid);
  }

  /**
   * The process with the most events (ties: the one seen first), the one a replay usually wants.
   *
   * @throws IllegalStateException if the trace has no events
   */
  public int defaultPid() {
    if (events.isEmpty()) {
      throw new IllegalStateException(source + " has no events, so it has no default pid");
    }
    return defaultPid;
  }

  /**
   * Lines of events that are not imported, counted by event name: other tracepoints, syscalls outside
   * {@link Syscall#TRACED}, {@code PERF_RECORD_MMAP} (the kernel's own map) and other side-band records.
   */
  public Map<String, Integer> ignoredEvents() {
    return ignoredEvents;
  }

  /** Total of {@link #ignoredEvents()}. */
  public int ignoredLines() {
    return ignoredEvents.values().stream().mapToInt(Integer::intValue).sum();
  }

  /**
   * Lines dropped because they were malformed, cut short, or a syscall enter or exit without its partner.
   * Always 0 for a trace parsed in strict mode.
   */
  public int skippedLines() {
    return skippedLines;
  }

  /**
   * Number of errors found in lenient mode: {@link #skippedLines()} plus one if a gzip stream ended early
   * exactly at a line boundary (nothing left to skip).
   */
  public int errorCount() {
    return errorCount;
  }

  /** The first few error messages ({@code FILE:LINE: what is wrong}), for a report. */
  public List<String> errors() {
    return errors;
  }

  @Override
  public String toString() {
    return "Trace[" + source + ": " + events.size() + " events, " + pids().size() + " pids, "
        + ignoredLines() + " ignored, " + skippedLines + " skipped]";
  }
}
