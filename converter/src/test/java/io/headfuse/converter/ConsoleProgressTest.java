package io.headfuse.converter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.testkit.Assets;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Progress off a terminal: plain lines while a task runs, one line per completed task, nothing for a failed one. */
class ConsoleProgressTest {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    private List<String> lines() { return bytes.toString(StandardCharsets.UTF_8).lines().toList(); }

    @Test
    void aRunningTaskPrintsRateAndEtaAndACompletedOneItsTime() {
        try (ConsoleProgress p = new ConsoleProgress(false, new PrintStream(bytes, true, StandardCharsets.UTF_8), 0)) {
            p.start("convert", 4L << 20, "MiB", 1 << 20);
            for (int i = 0; i < 4; i++) p.advance(1 << 20);
        }
        List<String> l = lines();
        assertEquals(4, l.size(), l.toString());
        assertTrue(l.get(0).matches("convert: 1/4 MiB \\(25%\\), [0-9.,]+ MiB/s, ETA \\d+:\\d\\d"), l.get(0));
        assertTrue(l.get(2).startsWith("convert: 3/4 MiB (75%)"), l.get(2));
        assertTrue(l.get(3).matches("convert: 4 MiB in [0-9.]+ s, [0-9.,]+ MiB/s"), l.get(3));
    }

    @Test
    void aTaskClosedBeforeItsEndPrintsNothing() {
        try (ConsoleProgress p = new ConsoleProgress(false, new PrintStream(bytes, true, StandardCharsets.UTF_8), 1e9)) {
            p.start("convert", 10, "MiB", 1);
            p.advance(3);
        }
        assertEquals(List.of(), lines(), "a failure must stay the one line that says what went wrong");
    }

    @Test
    void aConversionLogSaysWhereItsTimeWent(@TempDir Path tmp) throws Exception {
        ConvertOptions o = ConvertOptions.of(Assets.model("headfuse-mha-s"), tmp.resolve("asym2"), 2).withStrategy("asym")
                .withCalibration(List.of(Assets.text("sotu/sotu-1790-2021.txt")), 1024);
        try (ConsoleProgress p = new ConsoleProgress(false, new PrintStream(bytes, true, StandardCharsets.UTF_8), 1e9)) {
            Headfuse.convert(o, p);
        }
        List<String> l = lines();
        assertEquals(3, l.size(), l.toString());
        assertTrue(l.get(0).matches("calibrate: 1,024 tok in [0-9.]+ s, .*"), l.get(0));
        assertTrue(l.get(1).matches("plan asym: 4 layers in [0-9.]+ s, [0-9.,]+ layers/s"), l.get(1));
        assertTrue(l.get(2).startsWith("convert: "), l.get(2));
    }
}
