package dev.mmlab.api;

/**
 * A held {@link MmLock} acquisition. Not thread-safe: it belongs to the thread that acquired it. Closing it
 * releases everything it holds; for per-VMA locking that is where every VMA write-locked in the cycle
 * unlocks at once.
 */
public interface MmLockGuard extends AutoCloseable {
    LockIntent intent();

    /** Whether this guard lets its holder read ({@code write == false}) or change the mapping of {@code [start, end)}. */
    boolean covers(long start, long end, boolean write);

    /** What this guard holds of the whole address space: NONE when it is not the whole-space lock (or released). */
    CoarseHold coarseHold();

    /**
     * {@code vma_start_write}: the engine is about to change or detach {@code vma}. Caller holds this guard in
     * write mode covering the VMA. May block until the VMA's readers leave; does not sleep otherwise.
     */
    void startWrite(Vma vma);

    /** {@code vma} is new and will be published under this guard. Default: nothing to do. */
    default void prepareNew(Vma vma) {}

    /**
     * The VMA changes of this cycle are published; what remains is page-table work (munmap's zap). A rwsem
     * with {@code munmapDowngrade} downgrades to read here. Default: nothing.
     */
    default void downgrade() {}

    /**
     * Whether the engine should release this guard before populating a new mapping ({@code MAP_POPULATE},
     * mlock), faulting the pages in afterwards with the ordinary fault path. Default: yes, as Linux.
     */
    default boolean dropsForPopulate() {
        return true;
    }

    /** Release. Never throws; idempotent. */
    @Override
    void close();
}
