package dev.mmlab.bench.calibrate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What a profile's header says about the machine it was measured on; "unknown" where Linux does not say. */
final class MachineFacts {
    private MachineFacts() {}

    /** {@code uname -r}, from the file the kernel answers it from. */
    static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip();
        } catch (IOException e) {
            return System.getProperty("os.name") + " " + System.getProperty("os.version");
        }
    }

    /** The first {@code model name} in /proc/cpuinfo (x86), else the architecture. */
    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && line.contains(":")) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException e) {
            // not Linux: fall through to the architecture
        }
        return "unknown model (" + System.getProperty("os.arch") + ")";
    }

    static String javaVersion() {
        return System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
    }
}
