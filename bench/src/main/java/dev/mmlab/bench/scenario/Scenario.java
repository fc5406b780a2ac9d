package dev.mmlab.bench.scenario;

import dev.mmlab.api.mm.MmConfig;
import java.util.List;

/**
 * A situation to run under each strategy: roles of threads working on one address space. Implementations are
 * immutable descriptions; {@link #setup} builds one run's state in a fresh {@link dev.mmlab.api.mm.Mm}.
 */
public interface Scenario {
    /** The name {@code compare --scenario} selects it by. */
    String name();

    /** One line: where the situation comes from (a benchmark, a kernel commit, a talk). */
    String origin();

    /** Every parameter it accepts, with defaults. */
    List<ParamDef> params();

    /** The parameter {@code --threads N} sets (the role that scales), or null when none. */
    default String threadsParam() {
        return null;
    }

    /**
     * Whether no two threads ever touch the same VMA, its neighbours or its page tables with these parameters:
     * only then is the {@code unsafe-nolock} reference valid.
     */
    boolean disjoint(ScenarioParams params);

    /** The address space's configuration (an allocator with reclaim stalls, for example). */
    default MmConfig mmConfig(ScenarioParams params, long seed) {
        return MmConfig.defaults();
    }

    /**
     * Prepares one run in {@code ctx.mm()} (files, background VMAs) and returns its roles. Runs on the runner's
     * thread with no worker started; no lock is contended.
     */
    List<Role> setup(ScenarioContext ctx);
}
