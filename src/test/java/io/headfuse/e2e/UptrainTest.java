package io.headfuse.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.TensorSource;
import io.headfuse.testkit.Assets;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code headfuse uptrain} end to end on the CPU: an asym conversion of headfuse-mha-s trained on the four texts
 * improves on every held-out slice, the output is a complete checkpoint that eval loads and measures exactly as the
 * report says, and bad input fails cleanly with nothing written. (Same seed, same weights: ResumeTest.)
 */
class UptrainTest {
    @TempDir static Path tmp;
    private static Path teacher, student, mean2;
    private static final List<String> TEXTS = List.of("sotu/sotu-1790-2021.txt", "brown/brown-plain.txt", "moby-dick/moby-dick.txt",
            "tinyshakespeare/tinyshakespeare.txt");

    @BeforeAll
    static void convert() throws IOException {
        teacher = Assets.model("headfuse-mha-s");
        student = tmp.resolve("asym4");
        Cli c = Cli.run("convert", "--model", teacher.toString(), "--kv-heads", "4", "--strategy", "asym", "--align", "--lsq", "--coupled",
                "--calib", Assets.text("sotu/sotu-1790-2021.txt").toString(), "--calib-tokens", "4096", "--out", student.toString());
        assertEquals(0, c.exit(), c.err());
        mean2 = tmp.resolve("mean2");
        assertEquals(0, Cli.run("convert", "--model", teacher.toString(), "--kv-heads", "2", "--out", mean2.toString()).exit());
    }

    private static List<String> uptrainArgs(Path studentDir, Path out, String... extra) {
        List<String> a = new ArrayList<>(List.of("uptrain", "--teacher", teacher.toString(), "--student", studentDir.toString(), "--out", out.toString()));
        a.add("--data");
        for (String t : TEXTS) a.add(Assets.text(t).toString());
        a.addAll(Arrays.asList(extra));
        return a;
    }

    @Test
    void asymStudentImprovesOnEveryHeldOutSlice() throws IOException {
        Path out = tmp.resolve("up");
        Cli c = Cli.run(uptrainArgs(student, out, "--tokens", "8192", "--seq", "128", "--batch", "4", "--eval-tokens", "2048",
                "--log-every", "1").toArray(String[]::new));
        System.out.println(c.out());
        assertEquals(0, c.exit(), c.err());
        JsonNode report = Assets.json(out.resolve("headfuse.json"));
        assertEquals("asym", report.path("conversion").path("strategy").asText(), "the student's conversion report is kept");
        JsonNode u = report.path("uptrain");
        assertEquals(16, u.path("steps").asInt());
        assertEquals(8192, u.path("tokens").asLong());
        JsonNode before = u.path("perplexity").path("before"), after = u.path("perplexity").path("after");
        assertEquals(4, after.size(), "one held-out slice per data file");
        for (String t : TEXTS) {
            String name = Path.of(t).getFileName().toString();
            double b = before.path(name).asDouble(), a = after.path(name).asDouble();
            System.out.printf("%-28s %.3f -> %.3f%n", name, b, a);
            assertTrue(a < b, name + ": " + b + " -> " + a);
        }
        List<Double> losses = new ArrayList<>();
        u.path("loss_curve").forEach(p -> losses.add(p.path("loss").asDouble()));
        assertEquals(16, losses.size());
        double first = (losses.get(0) + losses.get(1) + losses.get(2)) / 3, last = (losses.get(13) + losses.get(14) + losses.get(15)) / 3;
        assertTrue(last < 0.8 * first, "the distillation loss falls: " + losses);
        byte[] png = Files.readAllBytes(out.resolve("uptrain.png"));
        assertTrue(png.length > 10_000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "uptrain.png is a picture");
        assertEquals(4, Assets.json(out.resolve("config.json")).path("num_key_value_heads").asInt());
        assertTrue(Files.exists(out.resolve("tokenizer.json")));

        // eval reads the written checkpoint and measures what the report says it measured after training.
        Path moby = Assets.text("moby-dick/moby-dick.txt");
        Path json = tmp.resolve("eval.json");
        Cli e = Cli.run("eval", "--model", out.toString(), "--data", moby.toString(), "--from", "0.98", "--window", "128", "--max-tokens", "2048",
                "--json", json.toString());
        assertEquals(0, e.exit(), e.err());
        double evalPpl = Assets.json(json).path("ppl").asDouble();
        assertEquals(after.path("moby-dick.txt").asDouble(), evalPpl, 1e-9 * evalPpl, "eval of the written bf16 checkpoint");
    }

    /** Runs a failing uptrain and checks the contract: exit code, one line naming the problem, nothing written. */
    private static String fails(int code, List<String> args, String expect) throws IOException {
        Path work = Files.createDirectories(tmp.resolve("fail-" + System.nanoTime()));
        List<String> a = new ArrayList<>(args);
        a.set(a.indexOf("--out") + 1, work.resolve("out").toString());
        Cli c = Cli.run(a.toArray(String[]::new));
        System.out.println("  " + c.err().strip().lines().findFirst().orElse(""));
        assertEquals(code, c.exit(), c.err());
        assertTrue(c.err().contains(expect), "expected '" + expect + "' in: " + c.err());
        if (code == 1) assertEquals(1, c.err().strip().lines().count(), "one line: " + c.err());
        try (Stream<Path> s = Files.list(work)) {
            assertEquals(List.of(), s.toList(), "nothing written");
        }
        return c.err();
    }

    @Test
    void fp16FrozenWeightsAreWrittenUnchangedAndAttentionTrains() throws IOException {
        Path out = tmp.resolve("fp16");
        Cli c = Cli.run(uptrainArgs(mean2, out, "--tokens", "512", "--seq", "64", "--batch", "4", "--eval-tokens", "128",
                "--train", "attention", "--fp16-weights").toArray(String[]::new));
        assertEquals(0, c.exit(), c.err());
        JsonNode u = Assets.json(out.resolve("headfuse.json")).path("uptrain");
        assertEquals("fp16 frozen weights, fp32 trainable", u.path("weights").asText());
        assertTrue(u.has("peak_device_bytes") && u.path("peak_device_bytes").isNull(), "no device memory to sample on the CPU");
        int frozen = 0, trained = 0;
        try (Checkpoint before = Checkpoints.open(mean2); Checkpoint after = Checkpoints.open(out); Arena arena = Arena.ofConfined()) {
            for (TensorSource t : before.tensors()) {
                byte[] a = t.bytes(arena).toArray(ValueLayout.JAVA_BYTE), b = after.tensor(t.name()).bytes(arena).toArray(ValueLayout.JAVA_BYTE);
                if (t.name().contains(".self_attn.")) {
                    trained++;
                    assertFalse(Arrays.equals(a, b), t.name() + " trains under --train attention");
                } else {
                    frozen++;
                    // Kept in fp16 on the device, but written from the checkpoint: bit for bit what it was.
                    assertTrue(Arrays.equals(a, b), t.name() + " is frozen and must be written unchanged");
                }
            }
        }
        assertTrue(frozen > 0 && trained > 0, frozen + " frozen, " + trained + " trained");
    }

    @Test
    void badInputFailsWithOneLineAndWritesNothing() throws IOException {
        Path out = tmp.resolve("unused");
        Path stories = Assets.model("stories260K-mha-hf");
        fails(1, List.of("uptrain", "--teacher", stories.toString(), "--student", mean2.toString(), "--data", Assets.text("moby-dick/moby-dick.txt").toString(),
                "--out", out.toString(), "--seq", "64"), "vocabulary");
        Path tiny = tmp.resolve("tiny.txt");
        Files.writeString(tiny, "Call me Ishmael.", StandardCharsets.UTF_8);
        fails(1, List.of("uptrain", "--teacher", teacher.toString(), "--student", mean2.toString(), "--data", tiny.toString(), "--out", out.toString()),
                tiny + ": ");
        fails(1, uptrainArgs(mean2, out, "--tokens", "100", "--seq", "64"), "less than one step");
        fails(1, uptrainArgs(mean2, out, "--seq", "1024"), "512 positions");
        fails(2, uptrainArgs(mean2, out, "--loss", "mse"), "unknown loss");
        fails(2, uptrainArgs(mean2, out, "--train", "mlp"), "unknown --train");

        // A resumable state of one run refused by another.
        Path first = tmp.resolve("resumable"), state = tmp.resolve("resumable-state");
        Cli c = Cli.run(uptrainArgs(mean2, first, "--tokens", "512", "--seq", "64", "--batch", "4", "--save-every", "256", "--eval-tokens", "128")
                .toArray(String[]::new));
        assertEquals(0, c.exit(), c.err());
        assertTrue(Files.isRegularFile(state.resolve("trainer_state.json")), "--save-every wrote a state beside the output");
        String err = fails(1, uptrainArgs(mean2, out, "--tokens", "512", "--seq", "64", "--batch", "4", "--lr", "1e-3", "--resume", state.toString()),
                "another run");
        assertFalse(err.contains("Exception"), err);
    }
}
