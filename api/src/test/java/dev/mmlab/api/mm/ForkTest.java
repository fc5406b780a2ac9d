package dev.mmlab.api.mm;

import static dev.mmlab.api.Linux.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mmlab.api.check.InvariantChecker;
import dev.mmlab.api.mem.Page;
import dev.mmlab.api.testing.CoarseTestStrategy;
import java.util.List;
import org.junit.jupiter.api.Test;

class ForkTest {
    private final Mm parent = CoarseTestStrategy.newMm();

    @Test
    void childSeesParentContentAndWritesDiverge() {
        long a = parent.mmapAnon(0, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        for (int i = 0; i < 4; i++) {
            parent.write(a + i * PAGE_SIZE, 100 + i);
        }
        Mm child = parent.fork();
        assertThat(child.procMaps()).isEqualTo(parent.procMaps());
        assertThat(InvariantChecker.check(List.of(parent, child), List.of())).isEmpty();
        for (int i = 0; i < 4; i++) {
            assertThat(child.read(a + i * PAGE_SIZE)).isEqualTo(100 + i);
        }
        child.write(a, 7);
        parent.write(a + PAGE_SIZE, 8);
        assertThat(parent.read(a)).isEqualTo(100);
        assertThat(child.read(a)).isEqualTo(7);
        assertThat(child.read(a + PAGE_SIZE)).isEqualTo(101);
        assertThat(parent.read(a + PAGE_SIZE)).isEqualTo(8);
        assertThat(InvariantChecker.check(List.of(parent, child), List.of())).isEmpty();
        child.exit();
        assertThat(InvariantChecker.check(List.of(parent, child), List.of())).isEmpty();
        for (int i = 2; i < 4; i++) {
            assertThat(parent.read(a + i * PAGE_SIZE)).isEqualTo(100 + i);
        }
        parent.exit();
        assertThat(parent.allocator().livePages()).isEmpty();
    }

    @Test
    void dontForkAndWipeOnFork() {
        long keep = parent.mmapAnon(0x10000000L, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
        long skip = parent.mmapAnon(0x20000000L, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
        long wipe = parent.mmapAnon(0x30000000L, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_FIXED);
        parent.write(keep, 1);
        parent.write(skip, 2);
        parent.write(wipe, 3);
        parent.madvise(skip, PAGE_SIZE, MADV_DONTFORK);
        parent.madvise(wipe, PAGE_SIZE, MADV_WIPEONFORK);
        Mm child = parent.fork();
        assertThat(child.tree().find(skip)).isNull();
        assertThat(child.tree().find(wipe)).isNotNull();
        assertThat(child.read(wipe)).isZero();
        assertThat(child.read(keep)).isEqualTo(1);
        assertThat(parent.read(wipe)).isEqualTo(3);
        assertThat(InvariantChecker.check(List.of(parent, child), List.of())).isEmpty();
    }

    @Test
    void sharedMappingsShareAndPrivatePagesAreWriteProtected() {
        long shared = parent.mmap(0, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, null, 0);
        parent.write(shared, 5);
        Mm child = parent.fork();
        child.write(shared, 6);
        assertThat(parent.read(shared)).isEqualTo(6);
        long priv = parent.mmapAnon(0, PAGE_SIZE, PROT_READ | PROT_WRITE, 0);
        parent.write(priv, 9);
        Mm child2 = parent.fork();
        Page before = pageAt(parent, priv);
        assertThat(before.refcount()).isEqualTo(2);
        child2.write(priv, 10);
        assertThat(pageAt(parent, priv).refcount()).isEqualTo(1);
        assertThat(InvariantChecker.check(List.of(parent, child, child2), List.of())).isEmpty();
    }

    @Test
    void forkOfTenThousandVmas() {
        long base = 0x100000000L;
        for (int i = 0; i < 10_000; i++) {
            int prot = i % 2 == 0 ? PROT_READ : PROT_READ | PROT_WRITE;
            parent.mmapAnon(base + i * PAGE_SIZE, PAGE_SIZE, prot, MAP_FIXED);
        }
        assertThat(parent.tree().size()).isEqualTo(10_000);
        Mm child = parent.fork();
        assertThat(child.tree().size()).isEqualTo(10_000);
        assertThat(InvariantChecker.check(List.of(parent, child), List.of())).isEmpty();
    }

    private static Page pageAt(Mm mm, long addr) {
        var table = mm.pageTables().lookup(addr);
        table.ptl().lock();
        try {
            return table.page(addr);
        } finally {
            table.ptl().unlock();
        }
    }

    /**
     * Oracle finding 14, {@code shmem_get_inode} ({@code get_next_ino()}): shmem inode numbers are system wide, so
     * a shared anonymous mapping made after the fork, in the child or the parent, never shows an inherited number.
     */
    @Test
    void shmemMadeAfterForkNeverReusesAnInheritedInode() {
        int rw = PROT_READ | PROT_WRITE;
        long inherited = parent.mmap(0x20000000L, 2 * PAGE_SIZE, rw, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, null, 0);
        Mm child = parent.fork();
        long childOwn = child.mmap(0x10000000L, 2 * PAGE_SIZE, rw, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, null, 0);
        long parentOwn = parent.mmap(0x30000000L, 2 * PAGE_SIZE, rw, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, null, 0);
        long inode = parent.tree().find(inherited).file().inode();
        assertThat(child.tree().find(inherited).file().inode()).isEqualTo(inode);
        assertThat(List.of(inode, child.tree().find(childOwn).file().inode(), parent.tree().find(parentOwn).file().inode()))
                .doesNotHaveDuplicates();
        assertThat(InvariantChecker.check(List.of(parent, child), List.of())).isEmpty();
        child.exit();
    }
}
