package dev.mmlab.rwsem.perf;

import static dev.mmlab.api.Linux.*;

import dev.mmlab.api.StrategyConfig;
import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import dev.mmlab.api.mm.MmConfig;
import dev.mmlab.rwsem.RwsemStrategy;
import java.util.Map;

/**
 * Throwaway harness (not a test): single-thread figures under rwsem. Run with
 * {@code java -cp <test-classes>:<classes>:<api jar>:<slf4j> dev.mmlab.rwsem.perf.SingleThreadFigures}.
 */
public final class SingleThreadFigures {
    private SingleThreadFigures() {}

    private static Mm newMm() {
        RwsemStrategy s = new RwsemStrategy();
        return Mm.create(s, StrategyConfig.of(s.name(), s.options(), Map.of()), MmConfig.defaults().withChecking(false));
    }

    public static void main(String[] args) {
        int pages = 16384;
        for (int round = 0; round < 5; round++) {
            Mm mm = newMm();
            long a = mm.mmapAnon(0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
            long t0 = System.nanoTime();
            for (int i = 0; i < pages; i++) {
                mm.write(a + i * PAGE_SIZE, i);
            }
            double anon = pages / ((System.nanoTime() - t0) / 1e9);

            Mm fm = newMm();
            BackingFile f = BackingFile.regular("/f", 1, pages * PAGE_SIZE, BlockDevice.instant("sda", 8, 0), fm.allocator());
            long w = fm.mmap(0, pages * PAGE_SIZE, PROT_READ, MAP_PRIVATE, OpenFile.readOnly(f), 0);
            for (int i = 0; i < pages; i++) {
                fm.read(w + i * PAGE_SIZE);
            }
            fm.munmap(w, pages * PAGE_SIZE);
            long b = fm.mmap(0, pages * PAGE_SIZE, PROT_READ, MAP_PRIVATE, OpenFile.readOnly(f), 0);
            t0 = System.nanoTime();
            for (int i = 0; i < pages; i++) {
                fm.read(b + i * PAGE_SIZE);
            }
            double file = pages / ((System.nanoTime() - t0) / 1e9);

            Mm pm = newMm();
            pm.mmapAnon(0, 64 * PAGE_SIZE, PROT_READ, 0);
            int pairs = 50_000;
            t0 = System.nanoTime();
            for (int i = 0; i < pairs; i++) {
                long m = pm.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
                pm.munmap(m, 4 * PAGE_SIZE);
            }
            double mm2 = pairs / ((System.nanoTime() - t0) / 1e9);
            System.out.printf("round %d: anon faults/s %.0f, cached file faults/s %.0f, mmap+munmap pairs/s %.0f%n",
                    round, anon, file, mm2);
        }
    }
}
