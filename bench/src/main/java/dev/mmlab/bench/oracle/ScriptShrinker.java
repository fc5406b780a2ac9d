package dev.mmlab.bench.oracle;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Shrinks a script that shows a difference to a shorter one that still shows it: first the shortest prefix that
 * differs, then each op in turn is dropped if the rest still differs (greedy, one pass, back to front: later ops
 * depend on earlier ones more often than the reverse). Each try is a kernel run and a model run, so the number of
 * tries is bounded.
 */
public final class ScriptShrinker {
    /** At most this many tries per script: a 60-op script takes about 120. */
    public static final int MAX_TRIES = 400;

    private ScriptShrinker() {}

    /**
     * A script no longer than {@code script} for which {@code differs} holds, {@code script} itself if nothing
     * shorter does. {@code differs} must hold for {@code script}.
     */
    public static OpScript shrink(OpScript script, Predicate<OpScript> differs) {
        int tries = 0;
        OpScript best = script;
        for (int n = 1; n < script.ops().size() && tries < MAX_TRIES; n++) {
            tries++;
            OpScript prefix = script.withOps(script.ops().subList(0, n));
            if (differs.test(prefix)) {
                best = prefix;
                break;
            }
        }
        for (int i = best.ops().size() - 2; i >= 0 && tries < MAX_TRIES; i--) {
            List<Op> fewer = new ArrayList<>(best.ops());
            fewer.remove(i);
            tries++;
            OpScript candidate = script.withOps(fewer);
            if (differs.test(candidate)) {
                best = candidate;
            }
        }
        return best;
    }
}
