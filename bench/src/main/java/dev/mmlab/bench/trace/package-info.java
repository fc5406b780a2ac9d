/**
 * Importer for {@code perf script} traces of address-space activity.
 *
 * <p>Input is the text of
 * <pre>
 * perf record -d -e syscalls:sys_enter_mmap -e syscalls:sys_exit_mmap ... \
 *             -e exceptions:page_fault_user -e exceptions:page_fault_kernel -- PROGRAM
 * perf script --show-mmap-events --show-task-events -F comm,pid,tid,time,event,trace
 * </pre>
 * plain or gzip-compressed, for the syscalls in {@link dev.mmlab.bench.trace.Syscall#TRACED}. Each line
 * is {@code COMM PID/TID SECONDS.FRACTION: BODY}; the bodies this package understands are
 * <pre>
 * syscalls:sys_enter_mmap: addr: 0x00000000, len: 0x00002000, prot: 0x00000003, flags: 0x00000022, fd: 0xffffffff, off: 0x00000000
 * syscalls:sys_exit_mmap: 0x7f7c8a3c6000
 * exceptions:page_fault_user: address=0x7f7c8a403e06 ip=0x7f7c8a3eb7ad error_code=0x6
 * exceptions:page_fault_kernel: address=0x55af1a215424 ip=elf_load error_code=0x2
 * PERF_RECORD_MMAP2 4981/4981: [0x7f7c8a3c6000(0x2000) @ 0x7f7c8a3c6000 00:00 0 0]: rw-p //anon
 * PERF_RECORD_COMM exec: vmaops2:22469/22469
 * PERF_RECORD_FORK(22469:22470):(22469:22469)
 * PERF_RECORD_EXIT(22469:22469):(22468:22468)
 * mmap_lock:mmap_lock_start_locking: mm=0xffff88811801d780 memcg_id=4193 write=true
 * mmap_lock:mmap_lock_acquire_returned: mm=0xffff88811801d780 memcg_id=4193 write=true success=true
 * mmap_lock:mmap_lock_released: mm=0xffff88811801d780 memcg_id=4193 write=false
 * </pre>
 * (formats of {@code perf_event__fprintf_mmap2}, {@code _comm} and {@code _task} in the kernel's
 * {@code tools/perf/util/event.c}, and of the syscall tracepoints in {@code kernel/trace/trace_syscalls.c}).
 * The mmap_lock lines are optional: traces recorded without them parse as before.
 * Any other event (such as {@code signal:signal_generate}) is counted and ignored. {@link dev.mmlab.bench.trace.TraceParser} is the entry point;
 * it returns an immutable {@link dev.mmlab.bench.trace.Trace}.
 */
package dev.mmlab.bench.trace;
