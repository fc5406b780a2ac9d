package dev.mmlab.pervma.lock;

import dev.mmlab.api.sync.Sched;
import java.util.concurrent.locks.StampedLock;

/**
 * The per-VMA lock in its Linux 6.4 form: a reader/writer lock, a {@code vm_lock_seq} and a {@code detached}
 * flag. Thread-safe. See {@link VmaLock} for the protocol; each method states what its caller must hold.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>Follows.</b> Suren Baghdasaryan's per-VMA lock series, merged for 6.4 ({@code include/linux/mm.h}:
 *       {@code vma_start_read}, {@code vma_end_read}, {@code vma_start_write}, {@code vma_mark_detached};
 *       {@code mm/memory.c}: {@code lock_vma_under_rcu}), with Jann Horn's ordering fix b1f02b95758d (6.5-rc3,
 *       in 6.4.y). Kernel state: {@code struct vma_lock { struct rw_semaphore lock; }}, {@code int vm_lock_seq},
 *       {@code bool detached}.</li>
 *   <li><b>What protects what.</b> The VMA's fields, against page faults that run without the mmap lock.
 *       Writers are already serialised by the mmap write lock; this lock only has to keep readers and that one
 *       writer apart. State and who writes it:
 *       <ul>
 *         <li>{@code vmLock}, a {@link StampedLock} in the rwsem's place. Readers only ever try-lock it for
 *             read; the writer takes it for write just long enough to set {@code vmLockSeq}. So "write-locked"
 *             does not mean "{@code vmLock} held for write": it means {@code vmLockSeq == mm_lock_seq}, and it
 *             lasts until {@link MmLockSeq#endWriteCycle}.</li>
 *         <li>{@code vmLockSeq}: written only under the mmap write lock and {@code vmLock} held for write; read
 *             reliably under {@code vmLock} held for read, and racily (volatile, the kernel's
 *             {@code READ_ONCE}) for the early bail-out.</li>
 *         <li>{@code detached}: written only under the mmap write lock, with the VMA write-locked (so any
 *             reader that gets {@code vmLock} during that cycle fails its sequence re-check first); read by
 *             readers after the re-check.</li>
 *         <li>{@code writerWaiting}: set while the writer waits for {@code vmLock}. It models
 *             {@code RWSEM_FLAG_WAITERS}, which makes the kernel's {@code down_read_trylock} fail once a writer
 *             is queued ({@code RWSEM_READ_FAILED_MASK}): neither JDK lock's tryLock looks at queued writers,
 *             and without this a stream of fault readers could starve the writer.</li>
 *       </ul></li>
 *   <li><b>Lock order.</b> mmap write lock &rarr; {@code vmLock} for write (held only to set the sequence, with
 *       nothing taken inside). A reader try-locks {@code vmLock} for read without the mmap lock and never
 *       waits; it holds the read lock across its fault, under which the engine takes a PTL, and never takes
 *       the mmap lock while holding it.</li>
 *   <li><b>Why {@code StampedLock}, not {@code ReentrantReadWriteLock}.</b> A kernel rwsem's read side has no
 *       owner and is not reentrant, and {@code up_read} may come from another task. {@code StampedLock} matches
 *       that ({@code tryUnlockRead} releases one hold, whoever took it); {@code ReentrantReadWriteLock} ties
 *       each read hold to a thread (a per-thread hold count in a {@code ThreadLocal},
 *       {@code IllegalMonitorStateException} from any other thread). Its {@code writeLock()} waits
 *       uninterruptibly, as {@code down_write} does. What neither gives is "trylock fails if a writer is
 *       queued", hence {@code writerWaiting}.</li>
 *   <li><b>Invariants.</b>
 *       <ul>
 *         <li>A successful reader saw, while holding {@code vmLock} for read, {@code vmLockSeq} != the
 *             {@code mm_lock_seq} it read afresh (acquire) and {@code detached == false}. A writer changes
 *             {@code vmLockSeq} only with {@code vmLock} held for write, so it waits for that reader; any
 *             reader coming after the mark sees {@code vmLockSeq == mm_lock_seq} until the cycle ends, and
 *             then sees everything the cycle wrote (release/acquire on {@code mm_lock_seq}).</li>
 *         <li>Readers never block; the writer blocks only on readers that got {@code vmLock} before it asked
 *             for it.</li>
 *       </ul></li>
 *   <li><b>What a reader may see mid-update.</b> The early check may read a stale {@code vmLockSeq}, in either
 *       direction; a stale "locked" answer is a spurious fallback, a stale "unlocked" one is caught by the
 *       re-check under {@code vmLock}. {@code detached} may flip while a reader holds the lock (the rwsem form
 *       does not wait for readers on detach); that reader keeps a stable VMA until {@code endRead}, as with the
 *       kernel's RCU-freed VMAs.</li>
 * </ul>
 */
public final class RwsemVmaLock implements VmaLock {
    private final StampedLock vmLock = new StampedLock();
    private volatile long vmLockSeq = MmLockSeq.NO_SEQ;
    private volatile boolean detached = true;
    private volatile boolean writerWaiting;
    /** The thread in {@link #startWrite}, woken by the last reader to leave; set only while writerWaiting. */
    private volatile Thread writer;

    /** A new VMA's lock: detached, never write-locked ({@code vma_lock_init}). */
    public RwsemVmaLock() {
    }

    /**
     * {@code vma_start_read} (6.4): early sequence check, {@code down_read_trylock}, sequence re-check under
     * the lock, then the {@code detached} check that 6.4 makes in {@code lock_vma_under_rcu}. No lock needed;
     * never blocks. See {@link VmaLock#tryStartRead}.
     */
    @Override
    public boolean tryStartRead(MmLockSeq mm) {
        Sched.access(this, true);
        // Early bail-out, racy on purpose: a wrong answer either way is fixed below or is a harmless fallback.
        if (vmLockSeq == mm.read() || writerWaiting) {
            return false;
        }
        long stamp = vmLock.tryReadLock();
        if (stamp == 0L) {
            return false;
        }
        // vmLockSeq is stable while we hold vmLock for read. mm.read() must be fresh and acquire: a cycle that
        // began after the caller looked the VMA up may have marked it, and if the cycle has ended we must see
        // what it wrote before we touch the VMA.
        if (vmLockSeq == mm.read() || detached) {
            vmLock.unlockRead(stamp);
            wakeWriter();
            return false;
        }
        return true;
    }

    /** {@code vma_end_read}: {@code up_read}. Never blocks; wakes a writer waiting for the last reader. */
    @Override
    public void endRead() {
        Sched.access(this, true);
        if (!vmLock.tryUnlockRead()) {
            throw new IllegalStateException("vma_end_read without a matching vma_start_read: this VMA is not "
                    + "read-locked (" + this + ")");
        }
        wakeWriter();
    }

    /** A reader left: a writer waiting in {@link #startWrite} may now get {@code vmLock}. */
    private void wakeWriter() {
        if (writerWaiting) {
            Sched.unpark(writer);
        }
    }

    /**
     * {@code vma_start_write} (6.4): {@code down_write}, set {@code vm_lock_seq}, {@code up_write}. Caller
     * holds the mmap write lock. Idempotent within a cycle. Blocks uninterruptibly until the readers inside
     * leave; new readers fail meanwhile.
     */
    @Override
    public void startWrite(long mmLockSeq) {
        if (vmLockSeq == mmLockSeq) {
            return;
        }
        Sched.access(this, true);
        writer = Thread.currentThread();
        writerWaiting = true;
        long stamp = 0L;
        try {
            // Wait through the seam, not in StampedLock.writeLock: each leaving reader unparks us.
            while ((stamp = vmLock.tryWriteLock()) == 0L) {
                Sched.park(this);
            }
            vmLockSeq = mmLockSeq;
        } finally {
            writerWaiting = false;
            writer = null;
            if (stamp != 0L) {
                vmLock.unlockWrite(stamp);
            }
        }
    }

    /** {@code vma->vm_lock_seq == mm_lock_seq}. Reliable under the mmap write lock; never blocks. */
    @Override
    public boolean isWriteLocked(long mmLockSeq) {
        return vmLockSeq == mmLockSeq;
    }

    /**
     * {@code vma_mark_detached(vma, true)} (6.4): sets the flag and returns; it does not wait for readers.
     * Caller holds the mmap write lock and has write-locked this VMA, so readers fail the sequence check
     * until the cycle ends and the flag check after it. A reader already inside keeps its lock until
     * {@link #endRead()}. Never blocks.
     */
    @Override
    public void markDetached() {
        if (detached) {
            throw new IllegalStateException("vma_mark_detached on a VMA that is not attached (" + this + ")");
        }
        detached = true;
    }

    /**
     * {@code vma_mark_detached(vma, false)} (6.4): clears the flag before the VMA is published. Caller holds
     * the mmap write lock and has write-locked this VMA. Never blocks.
     */
    @Override
    public void markAttached() {
        if (!detached) {
            throw new IllegalStateException("vma_mark_attached on a VMA that is already attached (" + this + ")");
        }
        detached = false;
    }

    @Override
    public boolean isDetached() {
        return detached;
    }

    @Override
    public int readers() {
        return vmLock.getReadLockCount();
    }

    @Override
    public String toString() {
        return "RwsemVmaLock[vm_lock_seq=" + vmLockSeq + ", readers=" + readers()
                + (writerWaiting ? ", writer waiting" : "") + (detached ? ", detached" : ", attached") + "]";
    }
}
