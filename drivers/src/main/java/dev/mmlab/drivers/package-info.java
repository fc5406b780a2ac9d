/**
 * The drivers that ship with mmlab, each a {@link dev.mmlab.api.VmOpsProvider} found by
 * {@link dev.mmlab.drivers.DriverRegistry}: {@code pagecache-file} and {@code shmem} (every callback
 * fine-grained safe), {@code legacy-fb} (fault and close need the mmap lock) and {@code slow-device} (fault
 * sleeps on I/O).
 */
package dev.mmlab.drivers;
