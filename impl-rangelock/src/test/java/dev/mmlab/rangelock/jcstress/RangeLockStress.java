package dev.mmlab.rangelock.jcstress;

import static org.openjdk.jcstress.annotations.Expect.ACCEPTABLE;
import static org.openjdk.jcstress.annotations.Expect.FORBIDDEN;

import dev.mmlab.rangelock.lock.ListRangeLock;
import dev.mmlab.rangelock.lock.RangeLock;
import dev.mmlab.rangelock.lock.RangeLock.Handle;
import dev.mmlab.rangelock.lock.TreeRangeLock;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.JCStressMeta;
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
 *
 * <p>Each race is written once, against {@link RangeLock}, with its outcomes ({@link MutualExclusion},
 * {@link Handoff}, {@link TouchingRanges}); a test per lock names the lock and declares the actors, because
 * jcstress takes {@code @Actor} and {@code @Arbiter} methods from the annotated class alone, not from a
 * superclass, and reads the outcomes through {@code @JCStressMeta}.
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

    /** Two writers on overlapping ranges (one contains the other) increment a plain field: no update is lost. */
    @Outcome(id = "2", expect = ACCEPTABLE, desc = "both increments happened under mutual exclusion")
    @Outcome(id = "1", expect = FORBIDDEN, desc = "an increment was lost: a contained range got in while the outer was held")
    static final class MutualExclusion {
        private final RangeLock lock;
        private int counter;

        MutualExclusion(RangeLock lock) {
            this.lock = lock;
        }

        void outer() {
            Handle h = write(lock, 0, 100);
            counter++;
            h.unlock();
        }

        void inner() {
            Handle h = write(lock, 40, 41);
            counter++;
            h.unlock();
        }

        void arbiter(I_Result r) {
            r.r1 = counter;
        }
    }

    /**
     * A writer publishes two plain fields under the lock, an overlapping reader reads them under the lock. The
     * reader sees both or neither: the release happens-before the grant that follows it.
     */
    @Outcome(id = "0, 0", expect = ACCEPTABLE, desc = "the reader got the range first")
    @Outcome(id = "1, 1", expect = ACCEPTABLE, desc = "the reader got the range after the writer released it, and saw its writes")
    @Outcome(id = {"1, 0", "0, 1"}, expect = FORBIDDEN, desc = "the reader saw a half-done write: no exclusion or no happens-before")
    static final class Handoff {
        private final RangeLock lock;
        private int x;
        private int y;

        Handoff(RangeLock lock) {
            this.lock = lock;
        }

        void writer() {
            Handle h = write(lock, 10, 20);
            x = 1;
            y = 1;
            h.unlock();
        }

        void reader(II_Result r) {
            Handle h = read(lock, 15, 30);
            r.r1 = x;
            r.r2 = y;
            h.unlock();
        }
    }

    /** Touching ranges do not conflict: two try-writes on [0,10) and [10,20) both succeed. */
    @Outcome(id = "true, true", expect = ACCEPTABLE, desc = "touching ranges never conflict")
    @Outcome(expect = FORBIDDEN, desc = "a try failed on a range nobody overlapped")
    static final class TouchingRanges {
        private final RangeLock lock;

        TouchingRanges(RangeLock lock) {
            this.lock = lock;
        }

        void left(ZZ_Result r) {
            r.r1 = tryWrite(lock, 0, 10);
        }

        void right(ZZ_Result r) {
            r.r2 = tryWrite(lock, 10, 20);
        }
    }

    @JCStressTest
    @JCStressMeta(MutualExclusion.class)
    @State
    public static class TreeMutualExclusion {
        private final MutualExclusion race = new MutualExclusion(new TreeRangeLock());

        @Actor
        public void outer() {
            race.outer();
        }

        @Actor
        public void inner() {
            race.inner();
        }

        @Arbiter
        public void arbiter(I_Result r) {
            race.arbiter(r);
        }
    }

    @JCStressTest
    @JCStressMeta(MutualExclusion.class)
    @State
    public static class ListMutualExclusion {
        private final MutualExclusion race = new MutualExclusion(new ListRangeLock());

        @Actor
        public void outer() {
            race.outer();
        }

        @Actor
        public void inner() {
            race.inner();
        }

        @Arbiter
        public void arbiter(I_Result r) {
            race.arbiter(r);
        }
    }

    @JCStressTest
    @JCStressMeta(Handoff.class)
    @State
    public static class TreeHandoff {
        private final Handoff race = new Handoff(new TreeRangeLock());

        @Actor
        public void writer() {
            race.writer();
        }

        @Actor
        public void reader(II_Result r) {
            race.reader(r);
        }
    }

    @JCStressTest
    @JCStressMeta(Handoff.class)
    @State
    public static class ListHandoff {
        private final Handoff race = new Handoff(new ListRangeLock());

        @Actor
        public void writer() {
            race.writer();
        }

        @Actor
        public void reader(II_Result r) {
            race.reader(r);
        }
    }

    @JCStressTest
    @JCStressMeta(TouchingRanges.class)
    @State
    public static class TreeTouchingRanges {
        private final TouchingRanges race = new TouchingRanges(new TreeRangeLock());

        @Actor
        public void left(ZZ_Result r) {
            race.left(r);
        }

        @Actor
        public void right(ZZ_Result r) {
            race.right(r);
        }
    }

    @JCStressTest
    @JCStressMeta(TouchingRanges.class)
    @State
    public static class ListTouchingRanges {
        private final TouchingRanges race = new TouchingRanges(new ListRangeLock());

        @Actor
        public void left(ZZ_Result r) {
            race.left(r);
        }

        @Actor
        public void right(ZZ_Result r) {
            race.right(r);
        }
    }
}
