package dev.mmlab.bench.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    @Test
    void drawsInPlaceOnATerminal() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(2, new PrintStream(bytes, true, StandardCharsets.UTF_8), true);
        bar.begin("a under rwsem");
        bar.update(0.5);
        bar.end();
        bar.begin("a under pervma");
        bar.update(1.0);
        bar.clear();
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertThat(s).contains("\r[", " 25% a under rwsem", "100% a under pervma").doesNotContain("\n");
    }

    @Test
    void silentOffATerminal() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar bar = new ProgressBar(1, new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        bar.begin("x");
        bar.update(0.7);
        bar.end();
        bar.clear();
        assertThat(bytes.size()).isZero();
    }
}
