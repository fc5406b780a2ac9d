package dev.mmlab.bench.run;

import java.util.ArrayList;
import java.util.List;

/**
 * A worker thread that threw: a failure of the run, reported apart from invariant violations (which the checker
 * finds in the address space afterwards).
 *
 * @param strategy the strategy label
 * @param role the scenario role of the thread
 * @param operation the address-space call it was in ({@code write}, {@code mmapAnon}, ...), or {@code "step"} when
 *        it threw outside one
 * @param exception the throwable as {@link Throwable#toString()} prints it
 */
public record WorkerFailure(String strategy, String role, String operation, String exception) {
    /** The facade every workload calls into; the outermost frame in it names the operation. */
    private static final String MM_FACADE = "dev.mmlab.api.mm.Mm";

    /** {@code thrown} on a thread of {@code role} under {@code strategy}. */
    public static WorkerFailure of(String strategy, String role, Throwable thrown) {
        return new WorkerFailure(strategy, role, operation(thrown), String.valueOf(thrown));
    }

    /** One line for the CLI: strategy, role, operation and exception. */
    public String describe() {
        return "strategy " + strategy + ", role " + role + ", operation " + operation + ": " + exception;
    }

    /** {@code failures} with repeats (the same role, operation and exception on several threads) dropped. */
    static List<WorkerFailure> distinct(List<WorkerFailure> failures, int most) {
        List<WorkerFailure> out = new ArrayList<>();
        for (WorkerFailure f : failures) {
            if (!out.contains(f) && out.size() < most) {
                out.add(f);
            }
        }
        return out;
    }

    private static String operation(Throwable thrown) {
        StackTraceElement[] frames = thrown.getStackTrace();
        for (int i = frames.length - 1; i >= 0; i--) {
            if (frames[i].getClassName().equals(MM_FACADE)) {
                return frames[i].getMethodName();
            }
        }
        return "step";
    }
}
