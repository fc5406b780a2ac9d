package dev.mmlab.api.sync;

/**
 * The engine's steps and the lock operations a virtual-time scheduler charges time for, each priced by a
 * cost profile (nanoseconds per step). The wall clock charges nothing: there the step takes the time it takes.
 */
public enum Cost {
    /** Entering and leaving one syscall. */
    SYSCALL,
    /** One level of a VMA tree lookup (a maple tree node). */
    VMA_LOOKUP_LEVEL,
    /** One VMA made by a split, a merge or a new mapping. */
    VMA_CHANGE,
    /** Publishing one change of the VMA tree. */
    TREE_PUBLISH,
    /** An anonymous write fault: a new zeroed page. */
    FAULT_ANON,
    /** An anonymous read fault: the shared zero page. */
    FAULT_ZERO,
    /** A write fault that copies a shared page. */
    FAULT_COW,
    /** A fault on a file page already in the page cache. */
    FAULT_FILE,
    /** A fault served by a driver's fault callback. */
    FAULT_DRIVER,
    /** A spurious or permission-upgrade fault that changes a present PTE. */
    FAULT_UPGRADE,
    /** Clearing one present PTE and dropping its page (zap). */
    ZAP_PAGE,
    /** Allocating a PTE table. */
    PTE_TABLE_ALLOC,
    /** Freeing a PTE table. */
    PTE_TABLE_FREE,
    /** Printing one line of /proc/pid/maps or smaps. */
    PROC_LINE,
    /** Copying one VMA at fork. */
    FORK_VMA,
    /** Copying one PTE at fork (and sharing its page). */
    FORK_PAGE,
    /** An atomic read-modify-write or a lock word operation on a cache line this core already holds. */
    ATOMIC_LOCAL,
    /** A read of a cache line this core holds. */
    READ_LOCAL,
    /** Moving a cache line from another core (a write, an atomic, or a read after another core wrote it). */
    LINE_TRANSFER,
    /** Waking a parked thread until it runs (the waker's {@code unpark} to the sleeper's return). */
    WAKEUP,
    /**
     * Handing a lock to a waiter that spins for it (a kernel spinlock, rwsem optimistic spinning): in the
     * kernel the lock word's line moves to the waiter. mmlab's wall clock parks such a waiter instead
     * ({@link Sched#parkSpinning}), so a profile of the model's own costs prices it as a wake-up.
     */
    SPIN_HANDOFF,
    /** One turn of a spin-wait. */
    SPIN,
    /**
     * The scenario harness timing and recording one operation (its clock reads and latency histogram): the
     * kernel has no such step, so kernel profiles price it 0; a profile of the model's own costs prices what
     * this JVM spends, so that a virtual run predicts the wall clock's.
     */
    RECORD
}
