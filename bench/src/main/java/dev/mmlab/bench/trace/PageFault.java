package dev.mmlab.bench.trace;

import java.util.Objects;

/**
 * An {@code exceptions:page_fault_user} or {@code exceptions:page_fault_kernel} tracepoint (x86).
 *
 * @param address the faulting address ({@code cr2})
 * @param errorCode the hardware error code, bits as in the kernel's {@code enum x86_pf_error_code}
 * @param user whether the fault was taken in user mode ({@code page_fault_user}) rather than by the
 *     kernel touching user memory ({@code page_fault_kernel}, e.g. in {@code copy_to_user})
 * @param ip the instruction pointer as printed: hex for user faults, usually a kernel symbol such as
 *     {@code _copy_to_user} for kernel faults
 */
public record PageFault(
    int lineNo, String comm, int pid, int tid, long timeNs, long address, long errorCode, boolean user, String ip)
    implements TraceEvent {

  /** {@code X86_PF_PROT}: the page was present; the fault is a protection violation. */
  public static final long PF_PROT = 1L;
  /** {@code X86_PF_WRITE}: the access was a write. */
  public static final long PF_WRITE = 1L << 1;
  /** {@code X86_PF_USER}: the access came from user mode. */
  public static final long PF_USER = 1L << 2;
  /** {@code X86_PF_INSTR}: the access was an instruction fetch. */
  public static final long PF_INSTR = 1L << 4;

  public PageFault {
    Objects.requireNonNull(comm, "comm");
    Objects.requireNonNull(ip, "ip");
  }

  /** Bit 1: a write access (otherwise a read or an instruction fetch). */
  public boolean isWrite() {
    return (errorCode & PF_WRITE) != 0;
  }

  /** Bit 0: the page was present, so this is a protection fault rather than a not-present fault. */
  public boolean isProtection() {
    return (errorCode & PF_PROT) != 0;
  }

  /** Bit 4: an instruction fetch. */
  public boolean isInstructionFetch() {
    return (errorCode & PF_INSTR) != 0;
  }
}
