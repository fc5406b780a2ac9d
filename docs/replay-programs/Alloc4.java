import java.util.ArrayList;
import java.util.List;

/** Four threads allocating arrays of a few MiB for about half a second: the JVM of docs/replay.md's table. */
public class Alloc4 {
    public static void main(String[] args) throws InterruptedException {
        long deadline = System.nanoTime() + 500_000_000L;
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            int size = (2 + i) << 20;
            Thread t = new Thread(() -> {
                long sum = 0;
                while (System.nanoTime() < deadline) {
                    byte[] block = new byte[size];
                    sum += block.length;
                }
                System.out.println(sum);
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
    }
}
