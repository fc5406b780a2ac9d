/**
 * The SPI of mmlab: what a locking strategy and a driver implement, and what the shared engine hands them.
 * Read it in this order; each step names what the one before it uses.
 *
 * <ol>
 *   <li><b>A strategy.</b> {@link dev.mmlab.api.LockingStrategy} (found by {@link java.util.ServiceLoader},
 *       options as {@link dev.mmlab.api.StrategyOption}, values in {@link dev.mmlab.api.StrategyConfig}) makes
 *       a {@link dev.mmlab.api.StrategyInstance} per address space, given an {@link dev.mmlab.api.MmContext}
 *       (counters, the lock-wait recorder, checking mode). A strategy with nothing per VMA returns
 *       {@link dev.mmlab.api.StrategyInstance#of}.</li>
 *   <li><b>How syscalls lock.</b> The engine asks {@link dev.mmlab.api.MmLock#lock} for a
 *       {@link dev.mmlab.api.LockIntent} (range, read or write, operation, true footprint) and gets an
 *       {@link dev.mmlab.api.MmLockGuard}: what it {@link dev.mmlab.api.MmLockGuard#covers covers}, what it
 *       holds of the whole space ({@link dev.mmlab.api.CoarseHold}), and the isolation calls
 *       ({@code startWrite}, {@code prepareNew}, {@code downgrade}) the engine makes before it publishes.</li>
 *   <li><b>The address map.</b> {@link dev.mmlab.api.VmaTree} holds immutable {@link dev.mmlab.api.Vma}s;
 *       {@link dev.mmlab.api.VmaTree#replace} publishes a change under the writer's guard. Per-VMA state a
 *       strategy keeps (a VMA lock, a sequence count) is its own {@link dev.mmlab.api.VmaLockState}.</li>
 *   <li><b>Faults.</b> A {@link dev.mmlab.api.FaultHandler} runs the strategy's fault protocol and hands
 *       each try to the engine's {@link dev.mmlab.api.FaultCore} as a {@link dev.mmlab.api.FaultAttempt}
 *       (what it holds, whether it may install an anon identity, whether it releases its locks for I/O, how
 *       it validates at commit; {@link dev.mmlab.api.HoldingFaultAttempt} is the base for an attempt that
 *       holds one lock throughout). The core answers a {@link dev.mmlab.api.FaultResult}: a final
 *       {@link dev.mmlab.api.FaultOutcome}, or a retry with its {@link dev.mmlab.api.RetryReason}.</li>
 *   <li><b>Drivers.</b> A {@link dev.mmlab.api.VmOps} (registered through
 *       {@link dev.mmlab.api.VmOpsProvider}) declares the {@link dev.mmlab.api.LockNeed} of each
 *       {@link dev.mmlab.api.VmOpsCallback}; its callbacks get a {@link dev.mmlab.api.VmOpsContext} and a
 *       fault returns a {@link dev.mmlab.api.VmFault}. A strategy gives a callback the coarse lock when its
 *       need asks for it ({@link dev.mmlab.api.CoarseHold#satisfies}).</li>
 *   <li><b>Building blocks</b> to start from instead of copying: {@link dev.mmlab.api.sync.CoarseMmapLock}
 *       (the per-mm rwsem, its {@link dev.mmlab.api.sync.RwsemMmLock} with Linux's switches, and the classic
 *       {@link dev.mmlab.api.sync.MmapLockFaultPath}; {@link dev.mmlab.api.sync.RwsemMmLock.Hooks} adds a
 *       strategy's write-side bookkeeping), {@link dev.mmlab.api.mm.SnapshotVmaTree} (a tree lockless readers
 *       can use), {@link dev.mmlab.api.mm.VmaMerge} (Linux's merge and anon-identity rules).</li>
 *   <li><b>The engine</b> behind all of it: {@link dev.mmlab.api.mm.Mm}, one address space, whose class
 *       comment maps its classes to the kernel files they mirror; {@link dev.mmlab.api.check.InvariantChecker}
 *       checks it at quiescent points.</li>
 * </ol>
 *
 * <p>Values and helpers: {@link dev.mmlab.api.Access}, {@link dev.mmlab.api.OpKind},
 * {@link dev.mmlab.api.AnonIdentity}, {@link dev.mmlab.api.VmFlags}, {@link dev.mmlab.api.Linux};
 * {@link dev.mmlab.api.Errno}, {@link dev.mmlab.api.ErrnoException}, {@link dev.mmlab.api.MemoryAccessException};
 * discovery through {@link dev.mmlab.api.Strategies} and {@link dev.mmlab.api.StrategySpec}.
 */
package dev.mmlab.api;
