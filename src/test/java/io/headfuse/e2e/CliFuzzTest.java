package io.headfuse.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.testkit.Assets;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The readers' fuzzing (formats' fuzz tests) seen from the command line: seeded mutations of a safetensors header,
 * a config, a Meta archive and a llama2.c header, each run through {@code inspect} and {@code convert}. Either the
 * command succeeds, or it exits 1 with one line naming a file of the input; never a stack trace, never anything
 * left beside the output, never a changed input.
 */
class CliFuzzTest {
    private static final long SEED = 0x434c_4921L;

    @TempDir Path tmp;

    private int accepted, refused;

    @Test
    void mutatedInputsThroughTheCliSucceedOrFailInOneLineNamingTheFile() throws IOException {
        Random rnd = new Random(SEED);
        for (int i = 0; i < 12; i++) {
            Path in = Cli.copyDir(Assets.model("stories260K-mha-hf"), tmp.resolve("hf" + i));
            Path f = in.resolve("model.safetensors");
            byte[] b = Files.readAllBytes(f);
            int headerLen = (int) ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            b[rnd.nextInt(8 + headerLen)] ^= (byte) (1 + rnd.nextInt(255));
            Files.write(f, b);
            check("hf" + i + " (header byte flipped)", in);
        }
        List<String> keys = List.of("num_hidden_layers", "rope_theta", "rms_norm_eps", "max_position_embeddings", "hidden_size", "num_key_value_heads", "vocab_size");
        List<String> values = List.of("0", "-1", "2147483647", "3", "\"abc\"", "[1]", "1e400", "18446744073709551616", "null");
        for (int i = 0; i < 10; i++) {
            Path in = Cli.copyDir(Assets.model("stories260K-mha-hf"), tmp.resolve("cfg" + i));
            String key = keys.get(rnd.nextInt(keys.size())), value = values.get(rnd.nextInt(values.size()));
            String cfg = Files.readString(in.resolve("config.json")).replaceFirst("\"" + key + "\":\\s*[^,\\n]+", "\"" + key + "\": " + value);
            Files.writeString(in.resolve("config.json"), cfg);
            check("cfg" + i + " (" + key + "=" + value + ")", in);
        }
        for (int i = 0; i < 8; i++) {
            Path in = Cli.copyDir(Assets.model("stories260K-mha-meta"), tmp.resolve("meta" + i));
            Path f = in.resolve("consolidated.00.pth");
            byte[] b = Files.readAllBytes(f);
            // The first 8 KB hold data.pkl; the last 4 KB the central directory: where a flip matters most.
            int at = i % 2 == 0 ? rnd.nextInt(8192) : b.length - 1 - rnd.nextInt(4096);
            b[at] ^= (byte) (1 + rnd.nextInt(255));
            Files.write(f, b);
            check("meta" + i + " (byte " + at + " flipped)", in);
        }
        for (int i = 0; i < 6; i++) {
            Path in = Cli.copyDir(Assets.model("stories260K-mha-llama2c"), tmp.resolve("l2c" + i));
            Path f = in.resolve("stories260K-mha.bin");
            byte[] b = Files.readAllBytes(f);
            ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(4 * rnd.nextInt(7), List.of(0, -1, 3, 7, Integer.MAX_VALUE, 1 << 20).get(rnd.nextInt(6)));
            Files.write(f, b);
            check("l2c" + i + " (header field)", in);
        }
        System.out.printf("fuzz %-52s cases %5d  accepted %5d  refused %5d%n", "CLI inspect + convert", accepted + refused, accepted, refused);
        assertTrue(refused > 0, "the fuzzer found inputs to refuse");
    }

    /** inspect and convert one mutated input; what convert reads, inspect reads too. */
    private void check(String what, Path in) throws IOException {
        Map<String, String> before = Cli.hashes(in);
        Path work = Files.createDirectories(tmp.resolve("work-" + in.getFileName()));
        Cli inspect = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> Cli.run("inspect", in.toString()), what + ": inspect over 10 s");
        Cli convert = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> Cli.run("convert", "--model", in.toString(), "--out", work.resolve("out").toString(), "--kv-heads", "4"),
                what + ": convert over 30 s");
        for (Cli r : List.of(inspect, convert)) {
            assertTrue(r.exit() == 0 || r.exit() == 1, what + ": exit " + r.exit() + " " + r.err());
            if (r.exit() == 1) {
                assertEquals(1, r.err().strip().lines().count(), what + ": one line: " + r.err());
                assertTrue(r.err().contains(in.toString()), what + ": names a file of the input: " + r.err());
            }
        }
        assertEquals(before, Cli.hashes(in), what + ": input untouched");
        try (Stream<Path> s = Files.list(work)) {
            List<Path> left = s.toList();
            if (convert.exit() == 0) assertEquals(List.of(work.resolve("out")), left, what + ": only the output");
            else assertEquals(List.of(), left, what + ": nothing left behind: " + convert.err());
        }
        // What convert can read, inspect can read (both check every shape; convert also checks its flags against the model, so the converse need not hold).
        if (convert.exit() == 0) assertEquals(0, inspect.exit(), what + ": convert read what inspect refused: " + inspect.err());
        if (convert.exit() == 0) accepted++;
        else refused++;
    }
}
