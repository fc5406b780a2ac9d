package com.example.hello;

import dev.mmlab.api.Access;
import dev.mmlab.api.Errno;
import dev.mmlab.api.ErrnoException;
import dev.mmlab.api.LockNeed;
import dev.mmlab.api.VmFault;
import dev.mmlab.api.VmOps;
import dev.mmlab.api.VmOpsCallback;
import dev.mmlab.api.VmOpsContext;
import dev.mmlab.api.VmOpsProvider;
import dev.mmlab.api.Vma;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A tiny device: every page reads as a greeting word plus its page offset. Its fault touches nothing of the
 * mm, so it is declared fine-grained safe; open and close keep the default (the mmap write lock), and close
 * asserts it, as a driver that keeps per-mapping state under the mmap lock would.
 *
 * <h2>Design notes</h2>
 * <ul>
 *   <li><b>What protects what.</b> Greeting and size are final; each fault hands out a fresh page, so faults
 *       share nothing and {@code fault} is declared fine-grained. The close count is an {@link AtomicLong}.
 *       {@code open}, {@code close} and {@code mmap} keep the default need, the mmap write lock, and
 *       {@code close} asserts it.</li>
 *   <li><b>Lock order.</b> none of its own: each callback runs under the lock its declaration asks for (for a
 *       fault, whatever covers the VMA), never under a PTL.</li>
 * </ul>
 */
// tag::driver[]
public final class HelloDriver implements VmOps {
    public static final String NAME = "hello";

    private final long greeting;
    private final long pages;
    private final AtomicLong closes = new AtomicLong();

    public HelloDriver(long greeting, long pages) {
        this.greeting = greeting;
        this.pages = pages;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** fault: FINE (audited). Everything else: undeclared, so coarse, the safe default. */
    @Override
    public LockNeed lockNeed(VmOpsCallback callback) {
        return callback == VmOpsCallback.FAULT ? LockNeed.FINE : VmOps.super.lockNeed(callback);
    }

    /** Refuses a mapping past the device's end. Caller holds the mmap write lock (the default need). */
    @Override
    public long mmap(VmOpsContext context, Vma vma) {
        if (vma.pgoff() + vma.length() / 4096 > pages) {
            throw new ErrnoException(Errno.EINVAL, "hello has only " + pages + " pages");
        }
        return vma.flags();
    }

    /** Any lock covering the VMA; allocates one page. */
    @Override
    public VmFault fault(VmOpsContext context, Vma vma, long addr, Access access) {
        return VmFault.mappedOrOom(context.allocator().allocateDevice(greeting + vma.pgoffOf(addr)));
    }

    /** Caller holds the mmap write lock: declared (by default) and asserted. */
    @Override
    public void close(VmOpsContext context, Vma vma) {
        context.assertWriteLocked();
        closes.incrementAndGet();
    }
    // end::driver[]

    public long closeCount() {
        return closes.get();
    }

    // tag::provider[]
    /** Found through META-INF/services/dev.mmlab.api.VmOpsProvider; parameters {@code greeting}, {@code pages}. */
    public static final class Provider implements VmOpsProvider {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public String description() {
            return "example: pages that read as a greeting; fault FINE, the rest coarse";
        }

        @Override
        public VmOps create(Map<String, String> parameters) {
            for (String key : parameters.keySet()) {
                if (!key.equals("greeting") && !key.equals("pages")) {
                    throw new IllegalArgumentException("hello has no parameter '" + key + "'; valid: greeting, pages");
                }
            }
            try {
                return new HelloDriver(Long.decode(parameters.getOrDefault("greeting", "0x48454c4c4f")),
                        Long.parseLong(parameters.getOrDefault("pages", "16")));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("hello: greeting and pages are numbers: " + parameters, e);
            }
        }
    }
    // end::provider[]
}
