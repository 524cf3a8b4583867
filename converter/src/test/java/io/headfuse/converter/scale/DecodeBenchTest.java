package io.headfuse.converter.scale;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.converter.ConvertOptions;
import io.headfuse.converter.Headfuse;
import io.headfuse.converter.cli.Main;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.testkit.Assets;
import io.headfuse.uptrain.eval.DecodeBench;
import io.headfuse.uptrain.eval.DecodeOptions;
import io.headfuse.uptrain.eval.DecodeResult;
import io.headfuse.uptrain.eval.Generator;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bench-decode on headfuse-mha-s and its 2-kv-head conversion, on the CPU. */
class DecodeBenchTest {
    @TempDir static Path tmp;
    static Path mha, kv2;

    @BeforeAll
    static void convert() throws Exception {
        mha = Assets.model("headfuse-mha-s");
        kv2 = tmp.resolve("kv2");
        Headfuse.convert(ConvertOptions.of(mha, kv2, 2));
    }

    @Test
    void kvCacheOfTheConversionIsExactlyFourTimesSmaller() throws Exception {
        try (LlamaModel a = LlamaModel.load(mha, Device.cpu()); LlamaModel b = LlamaModel.load(kv2, Device.cpu())) {
            long big = DecodeBench.computedKvBytes(a.config(), 16, 4096 + 128), small = DecodeBench.computedKvBytes(b.config(), 16, 4096 + 128);
            assertEquals(big, 4 * small);
            // headfuse-mha-s: 2 x 6 layers x 8 heads x 32 x 4 bytes per token.
            LlamaConfig c = a.config();
            assertEquals(2L * c.numLayers() * c.numHeads() * c.headDim() * 4 * 16 * (4096 + 128), big);
            DecodeOptions o = DecodeOptions.random(2, 24, 5, 7);
            DecodeResult ra = DecodeBench.run("mha", a, o), rb = DecodeBench.run("kv2", b, o);
            System.out.println("mha: " + ra + "\nkv2: " + rb);
            for (DecodeResult r : new DecodeResult[] {ra, rb}) {
                assertEquals("arrays", r.kvMeasuredBy(), "the CPU has no device memory to read");
                assertEquals(r.kvBytesComputed(), r.kvBytesMeasured(), "the cache holds exactly batch x (context + new) positions");
                assertTrue(r.peakDeviceMemory().isEmpty());
                assertTrue(r.decodeTokensPerSecond() > 0 && r.prefillTokensPerSecond() > 0);
            }
            assertEquals(ra.kvBytesMeasured(), 4 * rb.kvBytesMeasured());
        }
    }

    @Test
    void batchedGreedyDecodeEqualsUnbatchedGeneration() throws Exception {
        int[][] prompts = new int[3][];
        try (TextTokenizer tok = Tokenizers.forModel(mha)) {
            int[] ids = tok.encode(Files.readString(Assets.text("sotu/sotu-1790-2021.txt")).substring(0, 4000), true);
            for (int b = 0; b < prompts.length; b++) prompts[b] = Arrays.copyOfRange(ids, 100 * b, 100 * b + 20);
        }
        for (Path p : new Path[] {mha, kv2}) {
            try (LlamaModel m = LlamaModel.load(p, Device.cpu())) {
                // Prefill in chunks of 7 (three chunks, the last one short), then 12 decode steps.
                int[][] batched = DecodeBench.greedy(m, prompts, 12, 7);
                // The benchmark's own loop (tokens kept on the device between steps) generates the same tokens.
                int[] flat = new int[prompts.length * 20];
                for (int b = 0; b < prompts.length; b++) System.arraycopy(prompts[b], 0, flat, 20 * b, 20);
                int[][] bench = DecodeBench.run("bench", m, new DecodeOptions(prompts.length, 20, 12, 0, flat)).generated();
                for (int b = 0; b < prompts.length; b++) {
                    int[] expected = Generator.greedy(m, prompts[b], 12);
                    assertArrayEquals(expected, batched[b], p.getFileName() + ", sequence " + b);
                    assertArrayEquals(expected, bench[b], p.getFileName() + ", bench-decode's sequence " + b);
                }
            }
        }
    }

    @Test
    void commandWritesJsonWithRatiosAndAPng() throws Exception {
        Path json = tmp.resolve("decode.json"), png = tmp.resolve("decode.png");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(new String[] {"bench-decode", "--model", mha.toString(), "--model", kv2.toString(), "--batch", "2",
                "--context", "16", "--new", "4", "--json", json.toString(), "--png", png.toString()}, new PrintStream(out), new PrintStream(err));
        System.out.print(out);
        assertEquals(0, code, err.toString());
        JsonNode models = LlamaConfig.JSON.readTree(json.toFile()).get("models");
        assertEquals(2, models.size());
        assertEquals(1.0, models.get(0).get("kv_ratio").asDouble());
        assertEquals(0.25, models.get(1).get("kv_ratio").asDouble());
        assertTrue(models.get(1).get("decode_tokens_per_s").asDouble() > 0);
        assertTrue(out.toString().contains("kv cache 0.2500x (4x smaller)"), out.toString());
        assertTrue(ImageIO.read(png.toFile()).getWidth() > 1000, "two charts side by side");

        ByteArrayOutputStream e2 = new ByteArrayOutputStream();
        assertEquals(2, Main.run(new String[] {"bench-decode", "--model", mha.toString(), "--batch", "0"}, new PrintStream(new ByteArrayOutputStream()), new PrintStream(e2)));
        assertTrue(e2.toString().contains("--batch must be at least 1"), e2.toString());
    }
}
