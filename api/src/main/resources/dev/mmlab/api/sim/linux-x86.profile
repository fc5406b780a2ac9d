# mmlab cost profile: linux-x86
# Nanoseconds per engine step and lock operation on a recent x86-64 server core running Linux 6.x, one
# number per step, with where it comes from after the '#'. These are orders of magnitude from published
# measurements and the kernel's own work per step, not measurements of one machine: `mmlab calibrate` writes
# a profile measured on this machine's kernel. Change a number here only with its source.

SYSCALL = 100          # syscall entry and exit: lmbench lat_syscall "null" is 0.05-0.1 us on Skylake-class cores without KPTI
VMA_LOOKUP_LEVEL = 10  # one maple-tree node visited in mas_walk: a cache-resident 16-way pivot search, about 30 cycles
VMA_CHANGE = 150       # one vm_area_struct made by split/merge/mmap: vm_area_alloc (slab, ~30 ns) plus copying and linking it
TREE_PUBLISH = 300     # one maple-tree store of a change (mas_store_prealloc): a few nodes allocated and published under RCU
FAULT_ANON = 1000      # anonymous write fault: clear_page of 4 KiB (~300 ns at 12-16 GB/s), page allocation, rmap, PTE; will-it-scale page_fault1 runs about 1 M faults/s per core
FAULT_ZERO = 400       # anonymous read fault mapping the shared zero page: no allocation, no clearing
FAULT_COW = 1200       # copy-on-write fault: copy_page of 4 KiB instead of clear_page, plus the old page's rmap
FAULT_FILE = 600       # file fault on a page already in the page cache (filemap_fault, no I/O)
FAULT_DRIVER = 800     # a driver's vm_ops->fault handing out one page
FAULT_UPGRADE = 300    # a write-protect or spurious fault that only changes a present PTE
ZAP_PAGE = 60          # zap_pte_range per present PTE: clear, rmap and batched free (tlb_gather), 50-80 ns
PTE_TABLE_ALLOC = 300  # pte_alloc: one page from the page allocator, zeroed
PTE_TABLE_FREE = 200   # free_pgtables per PTE table
PROC_LINE = 500        # show_map_vma: one seq_printf line of /proc/pid/maps
FORK_VMA = 400         # dup_mmap per VMA: vm_area_dup, anon_vma_fork, the child's tree store
FORK_PAGE = 30         # copy_pte_range per present PTE: copy, write-protect, take a page reference
ATOMIC_LOCAL = 20      # a LOCK-prefixed read-modify-write on a line already in this core's L1: about 20 cycles (Schweizer, Besta, Hoefler, PACT 2015)
READ_LOCAL = 2         # a load that hits this core's L1
LINE_TRANSFER = 80     # moving a modified line from another core of the same socket: 100-200 cycles (David, Guerraoui, Trigonakis, SOSP 2013), 50-100 ns
WAKEUP = 2000          # from the waker's wake_up_process to the sleeper running on another core: 2-5 us (futex wake-up latency)
SPIN_HANDOFF = 80      # a lock handed to a spinning waiter: its line moves to the waiter's core, as LINE_TRANSFER
SPIN = 20              # one turn of a spin-wait with a pause instruction (40-140 cycles on Skylake and later)
RECORD = 0             # the harness's own timing of an operation: the kernel has none (a model profile measures mmlab's)
