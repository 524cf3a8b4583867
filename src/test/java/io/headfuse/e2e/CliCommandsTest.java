package io.headfuse.e2e;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.safetensors.HfCheckpoint;
import io.headfuse.formats.safetensors.SafetensorsFile;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Generator;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands a user runs, through the CLI in-process (Main.run), on real checkpoints. */
class CliCommandsTest {
    @TempDir Path tmp;

    private static JsonNode json(Path f) throws Exception { return LlamaConfig.JSON.readTree(f.toFile()); }

    /**
     * {@code convert --strategy asym --decoupled} (K and V grouped separately): config.json carries per-layer head maps, headfuse.json reports the
     * strategy and that plain transformers cannot load it, the heatmap PNG is there, and a second run into
     * another folder gives the same bytes.
     */
    @Test
    void asymConvertWritesHeadMapsReportAndHeatmapDeterministically() throws Exception {
        Path model = Assets.model("headfuse-mha-s");
        String[] args = {"convert", "--model", model.toString(), "--kv-heads", "2", "--strategy", "asym", "--decoupled",
                "--calib", Assets.text("sotu/sotu-1790-2021.txt").toString(), "--calib-tokens", "2048", "--out", null};
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        args[args.length - 1] = a.toString();
        Cli first = Cli.run(args);
        assertEquals(0, first.exit(), first.err());
        args[args.length - 1] = b.toString();
        Cli second = Cli.run(args);
        assertEquals(0, second.exit(), second.err());

        JsonNode config = json(a.resolve("config.json"));
        assertEquals(2, config.path("num_key_value_heads").asInt());
        for (String key : new String[] {"k_head_map", "v_head_map"}) {
            JsonNode maps = config.path("headfuse").path(key);
            assertEquals(4, maps.size(), key + ": one map per layer");
            for (JsonNode row : maps) {
                assertEquals(8, row.size(), key);
                int[] perKv = new int[2];
                for (JsonNode v : row) perKv[v.asInt()]++;
                assertArrayEquals(new int[] {4, 4}, perKv, key + " " + row + ": equal groups of 4 over kv heads 0 and 1");
            }
        }
        assertFalse(config.path("headfuse").path("k_head_map").equals(config.path("headfuse").path("v_head_map")),
                "K and V grouped differently on headfuse-mha-s (that is why the maps are there)");

        JsonNode report = json(a.resolve("headfuse.json"));
        assertEquals("asym", report.path("strategy").asText());
        assertEquals(8, report.path("input").path("kv_heads").asInt());
        assertEquals(2, report.path("output").path("kv_heads").asInt());
        assertFalse(report.path("output").path("hf_compatible").asBoolean(true));
        assertTrue(report.path("output").path("note").asText().contains("k_head_map"), report.toString());
        assertEquals(4, report.path("groups").size());
        assertEquals(4.0, report.path("kv_bytes_per_token").path("reduction").asDouble());

        BufferedImage png = ImageIO.read(a.resolve("head-similarity.png").toFile());
        assertTrue(png != null && png.getWidth() > 100 && png.getHeight() > 100, "heatmap PNG");

        Map<String, String> ha = Cli.hashes(a), hb = Cli.hashes(b);
        assertTrue(ha.keySet().containsAll(java.util.List.of("config.json", "model-00001-of-00001.safetensors", "model.safetensors.index.json", "tokenizer.json", "head-similarity.png")), ha.keySet().toString());
        ha.remove("headfuse.json");
        hb.remove("headfuse.json");
        assertEquals(ha, hb, "weights, config, tokenizer and PNG byte-identical across runs");
        assertEquals(withoutRunFacts(report), withoutRunFacts(json(b.resolve("headfuse.json"))), "report equal but for times and paths");
    }

    /** A report without what differs between two runs: wall time, per-layer times, the output path. */
    private static JsonNode withoutRunFacts(JsonNode report) {
        ObjectNode r = report.deepCopy();
        r.remove("wall_seconds");
        ((ObjectNode) r.get("output")).remove("path");
        for (JsonNode l : r.path("groups")) ((ObjectNode) l).remove("seconds");
        r.findParents("seconds").forEach(p -> ((ObjectNode) p).remove("seconds"));
        return r;
    }

    /**
     * {@code compare} of headfuse-mha-s against its mean-pooled 4-kv conversion: the teacher's perplexity is the
     * one {@code Perplexity} gives on the same text, the student's is worse, the KL is positive.
     */
    @Test
    void compareReportsBothPerplexitiesAndKl() throws Exception {
        Path teacher = Assets.model("headfuse-mha-s"), student = tmp.resolve("gqa4");
        Cli c = Cli.run("convert", "--model", teacher.toString(), "--kv-heads", "4", "--out", student.toString());
        assertEquals(0, c.exit(), c.err());
        String text = Perplexity.readText(Assets.text("moby-dick/moby-dick.txt")).substring(0, 8000);
        Path data = Files.writeString(tmp.resolve("moby-8k.txt"), text, StandardCharsets.UTF_8);
        Path out = tmp.resolve("compare.json");
        Cli r = Cli.run("compare", "--teacher", teacher.toString(), "--student", student.toString(), "--data", data.toString(),
                "--window", "256", "--json", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertFalse(r.out().isBlank());
        JsonNode j = json(out);
        double expected;
        try (LlamaModel m = LlamaModel.load(teacher, Device.cpu()); TextTokenizer tok = Tokenizers.forModel(teacher)) {
            expected = Perplexity.evaluate(m, tok, text, EvalOptions.defaults().withWindow(256)).ppl();
        }
        System.out.println("compare mha-s vs mean gqa4 on 8 KB of moby-dick: " + j);
        assertEquals(expected, j.path("teacher_ppl").asDouble(), 1e-9 * expected);
        assertTrue(j.path("student_ppl").asDouble() > 1.2 * expected, "mean pooling to 4 kv heads costs perplexity: " + j);
        assertTrue(j.path("kl").asDouble() > 0.05 && j.path("max_kl").asDouble() >= j.path("kl").asDouble(), j.toString());
        double top1 = j.path("top1_agreement").asDouble();
        assertTrue(top1 > 0.2 && top1 < 1, j.toString()); // measured 0.355
    }

    /** {@code generate} at temperature 0: non-empty, the same twice, and the library's greedy tokens. */
    @Test
    void generateIsGreedyAndDeterministic() throws Exception {
        Path model = Assets.model("headfuse-mha-s");
        String prompt = "The President said";
        Cli a = Cli.run("generate", "--model", model.toString(), "--prompt", prompt, "-n", "24");
        Cli b = Cli.run("generate", "--model", model.toString(), "--prompt", prompt, "-n", "24");
        assertEquals(0, a.exit(), a.err());
        assertEquals(a.out(), b.out());
        String expected;
        try (LlamaModel m = LlamaModel.load(model, Device.cpu()); TextTokenizer tok = Tokenizers.forModel(model)) {
            int[] ids = tok.encode(prompt, true);
            int[] gen = Generator.greedy(m, ids, 24);
            assertEquals(24, gen.length);
            int[] all = java.util.Arrays.copyOf(ids, ids.length + gen.length);
            System.arraycopy(gen, 0, all, ids.length, gen.length);
            expected = tok.decode(all);
        }
        System.out.print("generate: " + a.out());
        assertTrue(expected.length() > prompt.length() + 20, expected);
        assertEquals(expected.strip(), a.out().strip());
    }

    /**
     * {@code --dtype f32 --shard-size 3MB}: every tensor widened exactly from bf16, the config says float32, and
     * no shard holds more than 3 MB of data unless it is a single tensor larger than that.
     */
    @Test
    void dtypeAndShardSizeThroughTheCli() throws Exception {
        Path in = Assets.model("headfuse-mha-s"), out = tmp.resolve("f32");
        Cli c = Cli.run("convert", "--model", in.toString(), "--kv-heads", "8", "--out", out.toString(), "--dtype", "f32", "--shard-size", "3MB");
        assertEquals(0, c.exit(), c.err());
        try (Checkpoint src = Checkpoints.open(in); HfCheckpoint dst = HfCheckpoint.open(out)) {
            assertEquals("float32", dst.config().json().path("dtype").asText());
            assertEquals(DType.F32, dst.storedDtype());
            for (TensorSource t : src.tensors()) assertArrayEquals(t.toFloats(), dst.tensor(t.name()).toFloats(), t.name());
            long total = 0;
            for (Path f : dst.files()) {
                SafetensorsFile sf = SafetensorsFile.open(f);
                long data = Files.size(f) - sf.dataStart();
                assertTrue(data <= 3_000_000L || sf.tensors().size() == 1, f.getFileName() + ": " + data + " bytes in " + sf.tensors().size() + " tensors");
                total += data;
            }
            assertEquals(4 * src.parameterCount(), total);
            // embed_tokens and lm_head (8 MB each) alone in a shard each, the other 13.4 MB in shards of <= 3 MB
            assertTrue(dst.files().size() >= 2 + 5, dst.files().size() + " shards");
        }
    }
}
