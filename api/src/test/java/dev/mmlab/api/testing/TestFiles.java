package dev.mmlab.api.testing;

import dev.mmlab.api.mem.BackingFile;
import dev.mmlab.api.mem.BlockDevice;
import dev.mmlab.api.mem.LatencyModel;
import dev.mmlab.api.mem.OpenFile;
import dev.mmlab.api.mm.Mm;
import java.util.concurrent.atomic.AtomicLong;

/** Files and devices for engine tests. */
public final class TestFiles {
    private static final AtomicLong INODE = new AtomicLong(1000);

    private TestFiles() {}

    /** A regular file of {@code pages} pages on an instant device, mapped through {@code mm}'s allocator. */
    public static BackingFile file(Mm mm, long pages) {
        return file(mm, pages, BlockDevice.instant("sda", 8, 0));
    }

    public static BackingFile file(Mm mm, long pages, BlockDevice device) {
        return BackingFile.regular("/tmp/file" + INODE.incrementAndGet(), INODE.get(), pages * 4096, device,
                mm.allocator());
    }

    /** A device whose every read sleeps {@code millis}. */
    public static BlockDevice slowDevice(long millis) {
        return new BlockDevice("slow", 8, 16, LatencyModel.fixed(millis * 1_000_000), 0, 1);
    }

    public static OpenFile rw(BackingFile f) {
        return OpenFile.readWrite(f);
    }

    public static OpenFile ro(BackingFile f) {
        return OpenFile.readOnly(f);
    }
}
