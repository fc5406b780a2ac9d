package dev.mmlab.api;

/** The driver callbacks the engine calls, each with its own declared lock need. */
public enum VmOpsCallback {
    /** A page fault in the VMA ({@code vm_ops->fault}). Linux calls it under the mmap read lock. */
    FAULT,
    /** A new VMA is a copy of this one: split, fork ({@code vm_ops->open}). Linux: mmap write lock. */
    OPEN,
    /** The VMA goes away: munmap, a split's removed half, exit ({@code vm_ops->close}). Linux: mmap write lock. */
    CLOSE,
    /** The driver's {@code f_op->mmap}: it may refuse the mapping or adjust flags. Linux: mmap write lock. */
    MMAP
}
