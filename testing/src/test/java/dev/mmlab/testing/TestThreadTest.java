package dev.mmlab.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/** The waits of {@link TestThread}: what counts as blocked, and what a failed body turns into. */
class TestThreadTest {
    @Test
    void aThreadWaitingOnALatchIsBlockedUntilReleased() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestThread t = TestThread.start("waiter", release::await);
        t.awaitBlocked();
        t.assertStillBlockedAfter(20);
        release.countDown();
        t.finish();
        assertThat(t.isAlive()).isFalse();
    }

    @Test
    void aThreadThatFinishesInsteadOfBlockingFailsTheWait() {
        TestThread t = TestThread.start("quick", () -> {
            throw new IllegalStateException("boom");
        });
        assertThatThrownBy(t::awaitBlocked).isInstanceOf(AssertionError.class)
                .hasMessageContaining("quick finished instead of blocking").hasRootCauseMessage("boom");
    }

    @Test
    void finishRethrowsWhatTheBodyThrewAndFailureReturnsIt() throws Exception {
        TestThread t = TestThread.start("failing", () -> {
            throw new IllegalStateException("boom");
        });
        assertThat(t.failure()).isInstanceOf(IllegalStateException.class).hasMessage("boom");
        assertThatThrownBy(t::finish).isInstanceOf(AssertionError.class).hasMessage("failing failed");
        assertThat(TestThread.start("ok", () -> {}).failure()).isNull();
    }

    @Test
    void aPlainThreadThatEndsIsReportedAsEndedNotParked() throws Exception {
        Thread t = new Thread(() -> {}, "plain");
        t.start();
        t.join();
        assertThat(TestThread.awaitParkedOrEnded(t, Duration.ofMillis(5))).isFalse();
    }
}
