package dev.mmlab.api.sim;

/**
 * A virtual-time run that could not finish: a simulated thread threw, every live thread was parked with none
 * left to wake it (a deadlock in the code under simulation), or a thread blocked outside the
 * {@link dev.mmlab.api.sync.Sched} seam. Carries the stack of the thread concerned, when there is one.
 */
public final class SimulationException extends Exception {
    private static final long serialVersionUID = 1L;

    SimulationException(String message, StackTraceElement[] stack) {
        this(message, stack, null);
    }

    SimulationException(String message, StackTraceElement[] stack, Throwable cause) {
        super(message, cause);
        setStackTrace(stack == null ? new StackTraceElement[0] : stack);
    }
}
