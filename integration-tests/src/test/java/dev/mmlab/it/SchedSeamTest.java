package dev.mmlab.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every wait in the engine, the strategies and the drivers goes through {@code dev.mmlab.api.sync.Sched} (and
 * its {@code Mutex}), so that a virtual-time scheduler can run the same code: no {@code LockSupport},
 * {@code Thread.sleep}, {@code Thread.onSpinWait}, {@code System.nanoTime}, blocking lock or monitor wait in
 * their main sources, except in the seam itself and the virtual scheduler behind it. Walks {@code ../api}, {@code ../impl-*} and
 * {@code ../drivers} from this module's directory.
 */
class SchedSeamTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final List<String> SEAM = List.of("api/src/main/java/dev/mmlab/api/sync/Sched.java",
            "api/src/main/java/dev/mmlab/api/sync/Mutex.java", "api/src/main/java/dev/mmlab/api/sim/VirtualScheduler.java");
    private static final Map<Pattern, String> FORBIDDEN = Map.of(
            Pattern.compile("\\bLockSupport\\s*\\."), "Sched.park / parkNanos / unpark",
            Pattern.compile("\\bThread\\s*\\.\\s*sleep\\s*\\("), "Sched.sleepNanos",
            Pattern.compile("\\bThread\\s*\\.\\s*onSpinWait\\s*\\("), "Sched.spinWait",
            Pattern.compile("\\bSystem\\s*\\.\\s*nanoTime\\s*\\("), "Sched.nanoTime",
            Pattern.compile("\\bnew\\s+(ReentrantLock|ReentrantReadWriteLock|Semaphore|CountDownLatch|CyclicBarrier"
                    + "|Phaser)\\s*\\("), "Mutex, or Sched.park with a condition re-checked in a loop",
            Pattern.compile("\\.\\s*wait\\s*\\("), "Sched.park with a condition re-checked in a loop",
            Pattern.compile("\\b(CompletableFuture|FutureTask|Exchanger)\\b"), "Sched.park until a flag the finisher sets",
            Pattern.compile("\\.\\s*(writeLock|readLock|writeLockInterruptibly|readLockInterruptibly)\\s*\\(\\s*\\)"),
            "a try-lock in a loop that parks through Sched");

    @Test
    void everyWaitGoesThroughTheSeam() throws IOException {
        List<String> problems = new ArrayList<>();
        int files = 0;
        for (Path source : sources()) {
            String rel = ROOT.relativize(source).toString().replace('\\', '/');
            if (SEAM.contains(rel)) {
                continue;
            }
            files++;
            String code = stripCommentsAndStrings(Files.readString(source));
            FORBIDDEN.forEach((pattern, instead) -> {
                Matcher m = pattern.matcher(code);
                if (m.find()) {
                    problems.add(rel + ": " + m.group().trim() + " (use " + instead + ")");
                }
            });
        }
        assertThat(problems).as("waits outside dev.mmlab.api.sync.Sched").isEmpty();
        assertThat(files).as("sources scanned").isGreaterThan(60);
    }

    @Test
    void theScanSeesAForbiddenWait() {
        String code = stripCommentsAndStrings("class X { void f() { LockSupport.park(this); } // Thread.sleep(1)\n}");
        assertThat(FORBIDDEN.keySet().stream().filter(p -> p.matcher(code).find()).count()).isEqualTo(1);
    }

    private static List<Path> sources() throws IOException {
        List<Path> roots = new ArrayList<>(List.of(ROOT.resolve("api/src/main/java"), ROOT.resolve("drivers/src/main/java")));
        try (Stream<Path> modules = Files.list(ROOT)) {
            modules.filter(p -> p.getFileName().toString().startsWith("impl-")).sorted()
                    .forEach(p -> roots.add(p.resolve("src/main/java")));
        }
        List<Path> out = new ArrayList<>();
        for (Path root : roots) {
            try (Stream<Path> files = Files.walk(root)) {
                files.filter(p -> p.toString().endsWith(".java")).sorted().forEach(out::add);
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
        return out;
    }

    private static String stripCommentsAndStrings(String code) {
        return code.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ").replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"");
    }
}
