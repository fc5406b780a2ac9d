/**
 * Per-VMA locks as in Linux 6.4+ ({@code CONFIG_PER_VMA_LOCK}), standalone: JDK only, no engine types.
 *
 * <p>{@link dev.mmlab.pervma.lock.MmLockSeq} is the mm's {@code mm_lock_seq}; a
 * {@link dev.mmlab.pervma.lock.VmaLock} is one VMA's lock with its {@code vm_lock_seq}. Two forms:
 * {@link dev.mmlab.pervma.lock.RwsemVmaLock} (6.4: an rwsem plus a {@code detached} flag) and
 * {@link dev.mmlab.pervma.lock.RefcountVmaLock} (6.15: one reference count, {@code vm_refcnt}). The mmap lock
 * itself is not here: write-side methods state that their caller holds it.
 */
package dev.mmlab.pervma.lock;
