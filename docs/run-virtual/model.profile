# mmlab cost profile: model
# Measured by mmlab calibrate --source model on 2026-12-02T17:15:02.500707921Z
# command: mmlab calibrate --source model --out /tmp/run3/model.profile
# kernel: 6.18.44-fc-v1045
# cpu: Intel(R) Xeon(R) Processor, 2 CPUs available
# java: OpenJDK 64-Bit Server VM 17.0.15+6-Debian-1deb12u1
# model probe: rwsem strategy, single thread, 15 workloads timed on the wall clock (after 138 warm-up rounds, 8.0 s; median of 11), steps counted through the seam, lock steps taken out, engine steps fitted by non-negative least squares
# fit residual per workload (predicted/measured - 1): anon-write -0.0% anon-read -0.0% anon-write-sparse +0.0% anon-write-among-vmas +0.0% cow-after-fork +7.5% file-shared-write -0.0% file-private-write -8.9% mmap-munmap +0.0% munmap-nothing -0.0% munmap-populated -0.0% munmap-sparse -0.0% mprotect-split -0.0% proc-maps -0.0% fork-vmas -0.0% fork-pages -0.0%

SYSCALL = 123           # fitted to mprotect-split, mmap-munmap, munmap-nothing and 4 more: wall-clock ns in this JVM less lock steps, NNLS, median of 11
VMA_LOOKUP_LEVEL = 6    # fitted to proc-maps, anon-write-among-vmas, anon-write and 12 more: wall-clock ns in this JVM less lock steps, NNLS, median of 11
VMA_CHANGE = 101        # fitted to fork-vmas, mprotect-split, mmap-munmap and 1 more: wall-clock ns in this JVM less lock steps, NNLS, median of 11
TREE_PUBLISH = 722      # fitted to mprotect-split, mmap-munmap, munmap-populated and 3 more: wall-clock ns in this JVM less lock steps, NNLS, median of 11
FAULT_ANON = 271        # fitted to anon-write, anon-write-among-vmas, anon-write-sparse: wall-clock ns in this JVM less lock steps, NNLS, median of 11
FAULT_ZERO = 137        # fitted to anon-read: wall-clock ns in this JVM less lock steps, NNLS, median of 11
FAULT_COW = 302         # fitted to cow-after-fork, file-private-write: wall-clock ns in this JVM less lock steps, NNLS, median of 11
FAULT_FILE = 180        # fitted to file-shared-write: wall-clock ns in this JVM less lock steps, NNLS, median of 11
FAULT_DRIVER = 800      # not measured here: linux-x86's value (a driver's vm_ops->fault handing out one page)
FAULT_UPGRADE = 300     # not measured here: linux-x86's value (a write-protect or spurious fault that only changes a present PTE)
ZAP_PAGE = 42           # fitted to munmap-populated, munmap-sparse: wall-clock ns in this JVM less lock steps, NNLS, median of 11
PTE_TABLE_ALLOC = 434   # fitted to anon-write-sparse, anon-write, anon-read and 4 more: wall-clock ns in this JVM less lock steps, NNLS, median of 11
PTE_TABLE_FREE = 619    # fitted to munmap-sparse, munmap-populated: wall-clock ns in this JVM less lock steps, NNLS, median of 11
PROC_LINE = 1428        # fitted to proc-maps: wall-clock ns in this JVM less lock steps, NNLS, median of 11
FORK_VMA = 52           # fitted to fork-vmas, fork-pages: wall-clock ns in this JVM less lock steps, NNLS, median of 11
FORK_PAGE = 29          # fitted to fork-pages: wall-clock ns in this JVM less lock steps, NNLS, median of 11
ATOMIC_LOCAL = 5        # Java: AtomicLong.incrementAndGet on one thread, ns each, median of 7
READ_LOCAL = 1          # Java: a chain of dependent volatile reads of one cached array (latency), ns each, median of 7
LINE_TRANSFER = 70      # Java: two threads ping-pong one AtomicLong with increments, half a round trip (median of batches of 1000), median of 7
WAKEUP = 27615          # Java: LockSupport.unpark to the parked thread running, after it slept about as long as a lock waiter does (1-2 us) on a CPU of its own, median of 1000 wake-ups, median of 7
SPIN_HANDOFF = 27615    # the wall clock parks a spinning waiter (Sched.parkSpinning), so handing it a lock is a wake-up: Java: LockSupport.unpark to the parked thread running, after it slept about as long as a lock waiter does (1-2 us) on a CPU of its own, median of 1000 wake-ups, median of 7
SPIN = 10               # Java: Thread.onSpinWait in a loop, ns per turn, median of 7
RECORD = 100            # the scenario harness's OpRecorder: start, record and the stop check of one operation in a loop, ns each, median of 11
