package dev.mmlab.rangelock;

import dev.mmlab.api.LockingStrategy;
import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.rwsem.RwsemStrategy;
import java.util.Map;

/** Address spaces for the tests: rangelock with either range lock, or the rwsem baseline. */
final class TestMms {
    private TestMms() {}

    static Mm rangelock(String impl) {
        return rangelock(impl, Map.of());
    }

    static Mm rangelock(String impl, Map<String, String> extra) {
        LockingStrategy s = new RangeLockStrategy();
        Map<String, String> options = new java.util.HashMap<>(extra);
        options.put("impl", impl);
        return Mm.create(s, StrategyConfig.of(s.name(), s.options(), options), MmConfig.defaults());
    }

    static Mm rwsem() {
        return rwsem(Map.of());
    }

    static Mm rwsem(Map<String, String> options) {
        LockingStrategy s = new RwsemStrategy();
        return Mm.create(s, StrategyConfig.of(s.name(), s.options(), options), MmConfig.defaults());
    }

    /** "tree", "list": the parameter source of the per-implementation tests. */
    static String[] impls() {
        return new String[] {"tree", "list"};
    }
}
