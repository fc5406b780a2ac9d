package dev.mmlab.api;

/**
 * A strategy's state kept in each {@link Vma}: a per-VMA lock, a sequence count. Each strategy implements it
 * with its own class and makes one per new VMA ({@link StrategyInstance#newVmaState}); the engine carries it
 * and never looks inside. Read it back with {@link Vma#lockState(Class)}.
 */
public interface VmaLockState {}
