package dev.mmlab.testing;

import dev.mmlab.api.FaultHandler;
import dev.mmlab.api.MmLock;
import dev.mmlab.api.StrategyInstance;
import dev.mmlab.api.VmaTree;

/**
 * {@link StrategyInstance}s for test strategies that need nothing beyond the three required parts (no per-VMA
 * state, no VMA-by-VMA maps reading), so that a test strategy's {@code create} is its design and not the
 * interface's boilerplate.
 */
public final class StrategyInstances {
    private StrategyInstances() {}

    /** An instance made of {@code lock}, {@code faults} and {@code tree}, with every optional part defaulted. */
    public static StrategyInstance of(MmLock lock, FaultHandler faults, VmaTree tree) {
        return new StrategyInstance() {
            @Override
            public MmLock mmLock() {
                return lock;
            }

            @Override
            public FaultHandler faultHandler() {
                return faults;
            }

            @Override
            public VmaTree vmaTree() {
                return tree;
            }
        };
    }
}
