package dev.mmlab.bench.scenario;

import dev.mmlab.api.Linux;
import java.util.ArrayList;
import java.util.List;

/**
 * What every scenario shares: its name, origin and parameters, and the common {@code driver=NAME} parameter,
 * which maps one 2 MiB region of that driver in its own arena with one thread ({@code driver/fault}) faulting
 * in it, so the cost of one legacy driver beside the rest shows in {@code compare}.
 */
public abstract class BaseScenario implements Scenario {
    /** The common parameter naming a driver to add; {@code none} for no driver. */
    public static final String DRIVER = "driver";

    private final String name;
    private final String origin;
    private final String threadsParam;
    private final List<ParamDef> params;

    protected BaseScenario(String name, String origin, String threadsParam, List<ParamDef> own) {
        this.name = name;
        this.origin = origin;
        this.threadsParam = threadsParam;
        List<ParamDef> all = new ArrayList<>(own);
        all.add(ParamDef.word(DRIVER, "none", "add one thread faulting in a 2 MiB mapping of this driver ('mmlab list' shows them)"));
        this.params = List.copyOf(all);
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final String origin() {
        return origin;
    }

    @Override
    public final List<ParamDef> params() {
        return params;
    }

    @Override
    public final String threadsParam() {
        return threadsParam;
    }

    @Override
    public boolean disjoint(ScenarioParams params) {
        return true;
    }

    @Override
    public final List<Role> setup(ScenarioContext ctx) {
        List<Role> roles = new ArrayList<>(roles(ctx));
        String driver = ctx.params().get(DRIVER);
        if (!driver.equals("none")) {
            roles.add(new Role("driver", 1, Workloads.driverFaults(ctx, Drivers.discover().create(driver), Linux.PMD_SIZE)));
        }
        return roles;
    }

    /** This scenario's own roles; see {@link Scenario#setup}. */
    protected abstract List<Role> roles(ScenarioContext ctx);
}
