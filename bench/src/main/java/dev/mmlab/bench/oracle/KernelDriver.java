package dev.mmlab.bench.oracle;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs op scripts on this machine's kernel through {@code oracle-driver.c}, a C program shipped in the jar and
 * compiled on first use with {@code cc -O2} into a cache directory named for the source's hash (so an edited
 * driver is rebuilt, and concurrent runs share one binary). See the driver's comment for what it pins (THP off)
 * and how it finds its window. Each run is a fresh process: its address space starts from exec, as a kernel
 * oracle case does.
 */
public final class KernelDriver {
    static final String SOURCE = "oracle-driver.c";
    /**
     * Where the window starts, in the driver's process and in the model: 32 TiB, far below the top-down mmap
     * area and far above any heap, and 2 MiB aligned as the 512-page window is.
     */
    public static final long WINDOW_BASE = 0x200000000000L;
    private static final long TIMEOUT_SECONDS = 60;

    private final Path executable;

    private KernelDriver(Path executable) {
        this.executable = executable;
    }

    /** The driver cannot be built or run here (no C compiler, not Linux, a window that is not free). */
    public static final class UnavailableException extends Exception {
        private static final long serialVersionUID = 1L;

        public UnavailableException(String message) {
            super(message);
        }
    }

    /**
     * The driver, compiled now unless a build of this source is cached in {@code ${java.io.tmpdir}/mmlab-oracle}.
     *
     * @throws UnavailableException with one line saying why (no {@code cc} on the PATH, a compile error)
     */
    public static KernelDriver compile() throws UnavailableException {
        if (!System.getProperty("os.name", "").equals("Linux")) {
            throw new UnavailableException("the kernel driver needs Linux; this is " + System.getProperty("os.name"));
        }
        byte[] source;
        try (InputStream in = KernelDriver.class.getResourceAsStream(SOURCE)) {
            if (in == null) {
                throw new UnavailableException(SOURCE + " is missing from the class path");
            }
            source = in.readAllBytes();
        } catch (IOException e) {
            throw new UnavailableException("cannot read " + SOURCE + ": " + e.getMessage());
        }
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "mmlab-oracle", sha256(source).substring(0, 16));
        Path exe = dir.resolve("oracle-driver");
        if (Files.isExecutable(exe)) {
            return new KernelDriver(exe);
        }
        try {
            Files.createDirectories(dir);
            Path src = Files.createTempFile(dir, "oracle-driver", ".c");
            Files.write(src, source);
            Path tmp = Files.createTempFile(dir, "oracle-driver", ".tmp");
            Process cc;
            try {
                cc = new ProcessBuilder("cc", "-O2", "-o", tmp.toString(), src.toString())
                        .redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new UnavailableException("no C compiler: 'cc' is not on the PATH; install gcc or clang to run "
                        + "scripts on the kernel");
            }
            String log = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!cc.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS) || cc.exitValue() != 0) {
                throw new UnavailableException("cc -O2 " + SOURCE + " failed: " + log.strip().lines().findFirst().orElse(""));
            }
            Files.deleteIfExists(src);
            try {
                Files.move(tmp, exe, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, exe, StandardCopyOption.REPLACE_EXISTING);
            }
            return new KernelDriver(exe);
        } catch (IOException e) {
            throw new UnavailableException("cannot build the kernel driver in " + dir + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while compiling the kernel driver");
        }
    }

    /** The compiled driver. */
    public Path executable() {
        return executable;
    }

    /**
     * Runs {@code script} in a fresh driver process and returns what the kernel answered.
     *
     * @throws UnavailableException when the driver could not run it (its window is taken, it timed out, it
     *     crashed), with the driver's first line of complaint
     * @throws IOException when the driver's input or output could not be passed
     */
    public OracleOutput run(OpScript script) throws IOException, UnavailableException {
        return OracleOutput.parse(runRaw(script));
    }

    /** As {@link #run}, returning the driver's output text as it printed it. */
    public String runRaw(OpScript script) throws IOException, UnavailableException {
        Path input = Files.createTempFile("mmlab-oracle", ".in");
        Path errors = Files.createTempFile("mmlab-oracle", ".err");
        try {
            StringBuilder sb = new StringBuilder("window ").append(script.windowPages()).append('\n');
            for (OpScript.DeclaredFile f : script.files()) {
                sb.append(new Call("file", new long[] {f.pages()}, f.name()).driverLine()).append('\n');
            }
            for (Op op : script.ops()) {
                for (Call c : op.driverCalls()) {
                    sb.append(c.driverLine()).append('\n');
                }
            }
            Files.writeString(input, sb, StandardCharsets.UTF_8);
            // Input and errors through files, so a long script cannot fill a pipe while its output is read.
            Process p = new ProcessBuilder(List.of(executable.toString(), "0x" + Long.toHexString(WINDOW_BASE))).redirectInput(input.toFile())
                    .redirectError(errors.toFile()).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new UnavailableException("the kernel driver did not finish " + script.source() + " in "
                        + TIMEOUT_SECONDS + " s");
            }
            if (p.exitValue() != 0) {
                String why = Files.readString(errors, StandardCharsets.UTF_8).strip();
                throw new UnavailableException("the kernel driver failed on " + script.source() + " (exit "
                        + p.exitValue() + "): " + (why.isEmpty() ? "no message" : why.lines().findFirst().orElse("")));
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while the kernel driver ran");
        } finally {
            Files.deleteIfExists(input);
            Files.deleteIfExists(errors);
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is always present", e);
        }
    }
}
