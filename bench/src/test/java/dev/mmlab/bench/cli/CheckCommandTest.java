package dev.mmlab.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code mmlab check}: explored schedules, the invariant checker after each, a reproducible failure report. */
class CheckCommandTest {
    private static Cli check(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "check";
        System.arraycopy(args, 0, all, 1, args.length);
        return assertTimeoutPreemptively(Duration.ofSeconds(120), () -> Cli.run(all));
    }

    @Test
    void aRealStrategyPassesItsSchedules() {
        Cli r = check("--scenario", "contended-range", "--strategy", "rwsem", "--schedules", "5");
        assertThat(r.rc()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).containsPattern("rwsem: 5 schedules, [0-9,]+ operations, no failure");
    }

    @Test
    void theNoLockReferenceFailsWithASeedThatReproducesTheFailure() {
        Cli found = check("--scenario", "contended-range", "--strategy", "unsafe-nolock", "--schedules", "50", "--seed", "7");
        assertThat(found.rc()).as(found.out() + found.err()).isEqualTo(MmlabCommand.VIOLATIONS);
        assertThat(found.out()).contains("unsafe-nolock: schedule seed ", "the last switches before the failure",
                " -> mmlab-workers-");
        Matcher m = Pattern.compile("reproduce: mmlab check (.*)").matcher(found.out());
        assertThat(m.find()).as(found.out()).isTrue();

        Cli again = check(m.group(1).split(" "));
        assertThat(again.rc()).isEqualTo(MmlabCommand.VIOLATIONS);
        assertThat(again.out()).as("the same failure, the same interleaving")
                .isEqualTo(found.out().substring(found.out().indexOf("unsafe-nolock: schedule seed"))
                        .replaceFirst("\\(schedule \\d+ of 50\\)", "(schedule 1 of 1)"));
    }

    @Test
    void badOptionsAreOneLineErrors() {
        for (String[] bad : new String[][] {
            {"--scenario", "contended-range", "--schedules", "0"},
            {"--scenario", "contended-range", "--preempt-one-in", "0"},
            {"--scenario", "contended-range", "--duration", "-1"},
            {"--scenario", "no-such-scenario"},
            {"--scenario", "contended-range", "--strategy", "no-such-strategy"},
            {"--schedules", "3"}}) {
            Cli r = check(bad);
            assertThat(r.rc()).as(String.join(" ", bad)).isEqualTo(MmlabCommand.USAGE);
            assertThat(r.err().strip()).as(String.join(" ", bad)).doesNotContain("\n").startsWith("mmlab check: ");
            assertThat(r.out()).isEmpty();
        }
    }
}
