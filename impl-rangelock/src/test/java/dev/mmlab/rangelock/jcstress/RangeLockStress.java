package dev.mmlab.rangelock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.mmlab.rangelock.lock.ListRangeLock;
import dev.mmlab.rangelock.lock.RangeLock;
import dev.mmlab.rangelock.lock.RangeLock.Handle;
import dev.mmlab.rangelock.lock.TreeRangeLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;
import org.openjdk.jcstress.infra.results.I_Result;
import org.openjdk.jcstress.infra.results.ZZ_Result;

/**
 * jcstress tests of both range locks: two actors plus an arbiter each, so that they run on a 2-core machine
 * (jcstress skips tests with more actors than CPUs). Built and run only by the {@code jcstress} profile:
 * {@code mvn -o -Pjcstress -pl impl-rangelock verify -DskipTests}.
 */
public final class RangeLockStress {
    private RangeLockStress() {}

    static Handle write(RangeLock lock, long start, long end) {
        try {
            return lock.lockWrite(start, end);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static Handle read(RangeLock lock, long start, long end) {
        try {
            return lock.lockRead(start, end);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    static boolean tryWrite(RangeLock lock, long start, long end) {
        Handle h = lock.tryLockWrite(start, end);
        if (h == null) {
            return false;
        }
        h.unlock();
        return true;
    }

    // Two writers on overlapping ranges (one contains the other) increment a plain field: no update is lost.

    @JCStressTest
    @State
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "both increments happened under mutual exclusion")
    @Outcome(id = "1", expect = FORBIDDEN, desc = "an increment was lost: a contained range got in while the outer was held")
    public static class TreeMutualExclusion {
        private final RangeLock lock = new TreeRangeLock();
        private int counter;

        @Actor
        public void outer() {
            Handle h = write(lock, 0, 100);
            counter++;
            h.unlock();
        }

        @Actor
        public void inner() {
            Handle h = write(lock, 40, 41);
            counter++;
            h.unlock();
        }

        @Arbiter
        public void arbiter(I_Result r) {
            r.r1 = counter;
        }
    }

    @JCStressTest
    @State
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "both increments happened under mutual exclusion")
    @Outcome(id = "1", expect = FORBIDDEN, desc = "an increment was lost: a contained range got in while the outer was held")
    public static class ListMutualExclusion {
        private final RangeLock lock = new ListRangeLock();
        private int counter;

        @Actor
        public void outer() {
            Handle h = write(lock, 0, 100);
            counter++;
            h.unlock();
        }

        @Actor
        public void inner() {
            Handle h = write(lock, 40, 41);
            counter++;
            h.unlock();
        }

        @Arbiter
        public void arbiter(I_Result r) {
            r.r1 = counter;
        }
    }

    // Handoff: a writer publishes two plain fields under the lock, an overlapping reader reads them under the
    // lock. The reader sees both or neither: the release happens-before the grant that follows it.

    @JCStressTest
    @State
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader got the range first")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the reader got the range after the writer released it, and saw its writes")
    @Outcome(id = {"1, 0", "0, 1"}, expect = FORBIDDEN, desc = "the reader saw a half-done write: no exclusion or no happens-before")
    public static class TreeHandoff {
        private final RangeLock lock = new TreeRangeLock();
        private int x;
        private int y;

        @Actor
        public void writer() {
            Handle h = write(lock, 10, 20);
            x = 1;
            y = 1;
            h.unlock();
        }

        @Actor
        public void reader(II_Result r) {
            Handle h = read(lock, 15, 30);
            r.r1 = x;
            r.r2 = y;
            h.unlock();
        }
    }

    @JCStressTest
    @State
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader got the range first")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the reader got the range after the writer released it, and saw its writes")
    @Outcome(id = {"1, 0", "0, 1"}, expect = FORBIDDEN, desc = "the reader saw a half-done write: no exclusion or no happens-before")
    public static class ListHandoff {
        private final RangeLock lock = new ListRangeLock();
        private int x;
        private int y;

        @Actor
        public void writer() {
            Handle h = write(lock, 10, 20);
            x = 1;
            y = 1;
            h.unlock();
        }

        @Actor
        public void reader(II_Result r) {
            Handle h = read(lock, 15, 30);
            r.r1 = x;
            r.r2 = y;
            h.unlock();
        }
    }

    // Touching ranges do not conflict: two try-writes on [0,10) and [10,20) both succeed.

    @JCStressTest
    @State
    @Outcome(id = "true, true", expect = ACCEPTABLE, desc = "touching ranges never conflict")
    @Outcome(expect = FORBIDDEN, desc = "a try failed on a range nobody overlapped")
    public static class TreeTouchingRanges {
        private final RangeLock lock = new TreeRangeLock();

        @Actor
        public void left(ZZ_Result r) {
            r.r1 = tryWrite(lock, 0, 10);
        }

        @Actor
        public void right(ZZ_Result r) {
            r.r2 = tryWrite(lock, 10, 20);
        }
    }

    @JCStressTest
    @State
    @Outcome(id = "true, true", expect = ACCEPTABLE, desc = "touching ranges never conflict")
    @Outcome(expect = FORBIDDEN, desc = "a try failed on a range nobody overlapped")
    public static class ListTouchingRanges {
        private final RangeLock lock = new ListRangeLock();

        @Actor
        public void left(ZZ_Result r) {
            r.r1 = tryWrite(lock, 0, 10);
        }

        @Actor
        public void right(ZZ_Result r) {
            r.r2 = tryWrite(lock, 10, 20);
        }
    }
}
