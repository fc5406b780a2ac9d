package dev.mmlab.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mmlab.api.sim.CostProfile;
import dev.mmlab.api.sync.Cost;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mmlab calibrate}: both sources write a profile the virtual clock takes; bad input is exit 2. */
class CalibrateCommandTest {
    private static Cli run(String... args) {
        return assertTimeoutPreemptively(Duration.ofSeconds(60), () -> Cli.run(args));
    }

    @Test
    void theKernelSourceMeasuresSyscallsFaultsAndLineTransfers(@TempDir Path dir) throws Exception {
        assumeTrue(System.getProperty("os.name").equals("Linux"), "the kernel probe measures Linux");
        assumeTrue(onPath("cc"), "no C compiler");
        Path file = dir.resolve("mine.profile");
        Cli r = run("calibrate", "--quick", "--out", file.toString());
        assertThat(r.rc()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("wrote " + file, "FAULT_ANON");

        CostProfile profile = CostProfile.named(file.toString());
        assertThat(profile.name()).isEqualTo("mine");
        for (Cost measured : List.of(Cost.SYSCALL, Cost.FAULT_ANON, Cost.LINE_TRANSFER)) {
            assertThat(profile.source(measured)).as(measured.name()).doesNotContain("not measured");
            assertThat(profile.nanos(measured)).as(measured.name()).isPositive();
        }
        assertThat(profile.source(Cost.FAULT_DRIVER)).startsWith("not measured here: linux-x86's value (");
        assertThat(Files.readString(file)).contains("# kernel: ", "# command: mmlab calibrate --quick --out ");
    }

    @Test
    void theModelSourceWritesAProfileTheVirtualClockRunsWith(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.profile");
        Files.writeString(file, "an old profile, replaced once the measurement succeeded");
        Cli r = run("calibrate", "--source", "model", "--quick", "--out", file.toString());
        assertThat(r.rc()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("wrote " + file, "linux-x86");

        CostProfile profile = CostProfile.named(file.toString());
        for (Cost step : Cost.values()) {
            String how = profile.source(step);
            if (how.startsWith("not measured") || how.contains("the fit puts it at 0")) {
                continue;
            }
            assertThat(profile.nanos(step)).as(step + ": " + how).isPositive();
        }
        for (Cost measured : List.of(Cost.FAULT_ANON, Cost.SYSCALL, Cost.ATOMIC_LOCAL, Cost.LINE_TRANSFER, Cost.WAKEUP)) {
            assertThat(profile.source(measured)).as(measured.name()).doesNotContain("not measured");
        }
        assertThat(Files.readString(file)).contains("# fit residual per workload", "# command: mmlab calibrate --source model");

        Cli virtual = run("compare", "--clock", "virtual", "--profile", file.toString(), "--cores", "1",
                "--duration", "0.0005", "--scenario", "page-fault1", "--strategy", "rwsem");
        assertThat(virtual.rc()).as(virtual.out() + virtual.err()).isZero();
        assertThat(virtual.out()).contains("workers/page");
    }

    @Test
    void aMissingCompilerIsAOneLineUsageError(@TempDir Path dir) {
        assumeTrue(System.getProperty("os.name").equals("Linux"), "the kernel probe measures Linux");
        System.setProperty("mmlab.cc", dir.resolve("no-such-cc").toString());
        try {
            Cli r = run("calibrate", "--quick", "--out", dir.resolve("x.profile").toString());
            assertThat(r.rc()).isEqualTo(MmlabCommand.USAGE);
            assertThat(r.err().strip()).doesNotContain("\n").startsWith("mmlab calibrate: ")
                    .contains("install a C compiler, or use --source model");
            assertThat(dir.resolve("x.profile")).doesNotExist();
        } finally {
            System.clearProperty("mmlab.cc");
        }
    }

    @Test
    void aBadSourceIsAOneLineUsageError() {
        Cli r = run("calibrate", "--source", "firmware");
        assertThat(r.rc()).isEqualTo(MmlabCommand.USAGE);
        assertThat(r.err().strip()).doesNotContain("\n").startsWith("mmlab calibrate: ").contains("kernel or model");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void anUnwritableOutputIsAUsageErrorBeforeMeasuring(@TempDir Path dir) {
        long start = System.nanoTime();
        Cli r = run("calibrate", "--source", "model", "--out", dir.resolve("no-such-dir/x.profile").toString());
        assertThat(r.rc()).isEqualTo(MmlabCommand.USAGE);
        assertThat(r.err().strip()).doesNotContain("\n").startsWith("mmlab calibrate: --out ").contains("no directory");
        assertThat(System.nanoTime() - start).as("fails before measuring").isLessThan(Duration.ofSeconds(2).toNanos());
    }

    private static boolean onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }
}
