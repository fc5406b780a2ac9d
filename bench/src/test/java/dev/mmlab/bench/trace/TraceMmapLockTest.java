package dev.mmlab.bench.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.mmlab.bench.trace.MmapLockEvent.Kind;
import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The optional mmap_lock tracepoints: parsed when present, traces without them parse as before. */
class TraceMmapLockTest {
  private static final String HEADER = "        threads4 28255/28258  5077.698246: ";

  private static Trace parse(String... lines) throws IOException {
    return TraceParser.parse(new StringReader(String.join("\n", lines) + "\n"), "t", false);
  }

  @Test
  void threeKindsAsLinux618PrintsThem() throws IOException {
    Trace t = parse(
        HEADER + "   mmap_lock:mmap_lock_start_locking: mm=0xffff88811801d780 memcg_id=4193 write=true",
        HEADER + "mmap_lock:mmap_lock_acquire_returned: mm=0xffff88811801d780 memcg_id=4193 write=true success=true",
        HEADER + "mmap_lock:mmap_lock_acquire_returned: mm=0xffff88811801d780 memcg_id=4193 write=false success=false",
        HEADER + "        mmap_lock:mmap_lock_released: mm=0xffff88811801d780 memcg_id=4193 write=false");

    List<MmapLockEvent> events = t.eventsOfType(MmapLockEvent.class);
    assertThat(events).extracting(MmapLockEvent::kind)
        .containsExactly(Kind.START, Kind.ACQUIRED, Kind.ACQUIRED, Kind.RELEASED);
    assertThat(events).extracting(MmapLockEvent::granted).containsExactly(false, true, false, false);
    assertThat(events).extracting(MmapLockEvent::write).containsExactly(true, true, false, false);
    MmapLockEvent first = events.get(0);
    assertThat(first.mm()).isEqualTo(0xffff88811801d780L);
    assertThat(first.pid()).isEqualTo(28255);
    assertThat(first.tid()).isEqualTo(28258);
    assertThat(first.lineNo()).isEqualTo(1);
    assertThat(t.ignoredLines()).isZero();
  }

  @Test
  void olderKernelsMemcgPathEvenEmptyIsSkipped() throws IOException {
    Trace t = parse(
        HEADER + "mmap_lock:mmap_lock_acquire_returned: mm=0xffff88811801d780 memcg_path=/user.slice write=true success=true",
        HEADER + "mmap_lock:mmap_lock_released: mm=0xffff88811801d780 memcg_path= write=true");

    assertThat(t.eventsOfType(MmapLockEvent.class)).extracting(MmapLockEvent::kind, MmapLockEvent::write)
        .containsExactly(tuple(Kind.ACQUIRED, true),
            tuple(Kind.RELEASED, true));
  }

  @Test
  void malformedLineNamesWhatIsMissing() {
    assertThatThrownBy(() -> parse(HEADER + "mmap_lock:mmap_lock_acquire_returned: mm=0xffff88811801d780 write=true"))
        .isInstanceOf(TraceFormatException.class).hasMessageContaining("t:1").hasMessageContaining("success=BOOL");
    assertThatThrownBy(() -> parse(HEADER + "mmap_lock:mmap_lock_released: mm=0xffff88811801d780 write=maybe"))
        .isInstanceOf(TraceFormatException.class).hasMessageContaining("write is not true or false");
  }

  @Test
  void signalsAreCountedAndIgnored() throws IOException {
    Trace t = parse(HEADER + "signal:signal_generate: sig=11 errno=0 code=1 comm=threads4 pid=28258 grp=0 res=0");

    assertThat(t.events()).isEmpty();
    assertThat(t.ignoredEvents()).containsEntry("signal:signal_generate", 1);
  }

  @Test
  void recordedThreadedTraceHasGrantsInsideItsSyscalls() throws IOException {
    Trace t = TraceParser.parse(TraceFiles.resource("threads4-lockorder.perf.txt.gz"), false);

    assertThat(t.errorCount()).isZero();
    assertThat(t.eventsOfType(Syscall.class)).hasSize(3227);
    assertThat(t.eventsOfType(MmapLockEvent.class)).hasSize(2688 + 3489 + 2671);
    assertThat(t.eventsOfType(MmapLockEvent.class)).filteredOn(e -> e.kind() == Kind.ACQUIRED && !e.success())
        .hasSize(17);
  }
}
