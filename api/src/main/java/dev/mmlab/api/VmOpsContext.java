package dev.mmlab.api;

import dev.mmlab.api.mem.PageAllocator;

/**
 * What a driver callback may use: the page allocator and lock assertions. The assertions model
 * {@code mmap_assert_locked}/{@code mmap_assert_write_locked}: in checking mode, an assertion that fails
 * throws {@link IllegalStateException} naming the driver, the callback and the lock it lacked.
 */
public interface VmOpsContext {
    PageAllocator allocator();

    /** What the running thread holds of the whole address space. */
    CoarseHold held();

    /** Asserts the whole address space is locked at least for reading. */
    void assertLocked();

    /** Asserts the whole address space is locked for writing. */
    void assertWriteLocked();
}
