package io.headfuse.e2e;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.converter.ConversionReport;
import io.headfuse.converter.ConvertOptions;
import io.headfuse.converter.Headfuse;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.Floats;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.LlamaShapes;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.safetensors.HfCheckpoint;
import io.headfuse.formats.safetensors.SafetensorsFile;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Mean-pooling conversions of real checkpoints, checked tensor by tensor. */
class ConvertMeanPoolTest {
    @TempDir Path tmp;

    static byte[] raw(TensorSource t) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            return t.bytes(a).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    static Map<String, TensorSource> byName(Checkpoint c) {
        Map<String, TensorSource> m = new TreeMap<>();
        for (TensorSource t : c.tensors()) m.put(t.name(), t);
        return m;
    }

    /** Same names, shapes, dtypes and bytes. */
    static void assertSameTensors(Checkpoint expected, Checkpoint actual) throws IOException {
        Map<String, TensorSource> e = byName(expected), a = byName(actual);
        assertEquals(e.keySet(), a.keySet());
        for (String n : e.keySet()) {
            assertArrayEquals(e.get(n).shape(), a.get(n).shape(), n);
            assertEquals(e.get(n).dtype(), a.get(n).dtype(), n);
            assertArrayEquals(raw(e.get(n)), raw(a.get(n)), n + " differs");
        }
    }

    @Test
    void poolingStoriesMhaGivesTheOriginalGqaModel() throws IOException {
        Path out = tmp.resolve("gqa");
        ConversionReport r = Headfuse.convert(ConvertOptions.of(Assets.model("stories260K-mha-hf"), out, 4));
        assertEquals(2.0, r.kvReduction());
        try (Checkpoint expected = Checkpoints.open(Assets.model("stories260K-gqa-hf")); Checkpoint actual = Checkpoints.open(out)) {
            assertSameTensors(expected, actual);
            assertEquals(4, actual.config().numKvHeads());
            assertEquals(expected.config().tieWordEmbeddings(), actual.config().tieWordEmbeddings());
        }
        assertTrue(Files.exists(out.resolve("tok512.bin")), "tokenizer copied");
    }

    @ParameterizedTest(name = "{0} -> {1} kv heads like the HF model")
    @CsvSource({"stories260K-mha-meta,8", "stories260K-mha-meta,4", "stories260K-mha-llama2c/stories260K-mha.bin,8", "stories260K-mha-llama2c/stories260K-mha.bin,2"})
    void metaAndLlama2cConvertLikeHf(String input, int kv) throws IOException {
        Path fromHf = tmp.resolve("hf"), fromOther = tmp.resolve("other");
        Headfuse.convert(ConvertOptions.of(Assets.model("stories260K-mha-hf"), fromHf, kv));
        ConversionReport r = Headfuse.convert(ConvertOptions.of(Assets.model(input), fromOther, kv));
        assertEquals(kv, r.kvHeadsAfter());
        try (Checkpoint a = Checkpoints.open(fromHf); Checkpoint b = Checkpoints.open(fromOther)) {
            assertSameTensors(a, b);
            assertEquals(a.config().tieWordEmbeddings(), b.config().tieWordEmbeddings());
            assertEquals(a.config().intermediateSize(), b.config().intermediateSize());
        }
    }

    @ParameterizedTest(name = "{0} -> {1} kv heads")
    @CsvSource({"headfuse-mha-s,4", "headfuse-mha-s,2", "headfuse-mha-s,1", "headfuse-mha-m,4", "headfuse-mha-m,2", "headfuse-mha-m,1"})
    void headfuseModelsPoolExactly(String model, int kv) throws IOException {
        Path in = Assets.model(model);
        Path out = tmp.resolve(model + "-kv" + kv);
        Headfuse.convert(ConvertOptions.of(in, out, kv).withShardSize(20_000_000L));
        try (Checkpoint src = Checkpoints.open(in); HfCheckpoint dst = HfCheckpoint.open(out)) {
            LlamaConfig c = src.config();
            assertEquals(kv, dst.config().numKvHeads());
            assertEquals(c.numHeads(), dst.config().numHeads());
            LlamaShapes.validate(dst);
            // config: only num_key_value_heads changed
            var expectJson = c.json();
            expectJson.put("num_key_value_heads", kv);
            assertEquals(expectJson, dst.config().json());
            // index: total_size is the data bytes, every shard carries format=pt
            JsonNode index = LlamaConfig.JSON.readTree(out.resolve(HfCheckpoint.INDEX).toFile());
            long total = 0;
            for (Path f : dst.files()) {
                SafetensorsFile sf = SafetensorsFile.open(f);
                assertEquals(Map.of("format", "pt"), sf.metadata());
                total += Files.size(f) - sf.dataStart();
            }
            assertEquals(total, index.path("metadata").path("total_size").asLong());
            assertEquals(src.tensors().size(), index.path("weight_map").size());

            Map<String, TensorSource> before = byName(src), after = byName(dst);
            assertEquals(before.keySet(), after.keySet());
            for (String n : before.keySet()) {
                int layer = LlamaNames.layerOf(n);
                boolean kvTensor = layer >= 0 && (n.equals(LlamaNames.k(layer)) || n.equals(LlamaNames.v(layer)));
                byte[] expected = kvTensor ? pooledBf16(before.get(n), c.headDim(), c.numHeads() / kv) : raw(before.get(n));
                assertArrayEquals(expected, raw(after.get(n)), n);
            }
        }
        assertTrue(Files.exists(out.resolve("tokenizer.json")) && Files.exists(out.resolve("generation_config.json")));
        JsonNode report = LlamaConfig.JSON.readTree(out.resolve("headfuse.json").toFile());
        assertEquals("mean", report.path("strategy").asText());
        assertEquals(c(in).kvBytesPerToken(io.headfuse.formats.DType.BF16), report.path("kv_bytes_per_token").path("before").asLong());
        assertEquals(report.path("kv_bytes_per_token").path("before").asLong() / (8 / kv), report.path("kv_bytes_per_token").path("after").asLong());
    }

    private static LlamaConfig c(Path in) throws IOException { return LlamaConfig.read(in.resolve("config.json")); }

    /** Reference pooling, written independently of the strategy: fp32 mean of each group's rows, rounded to bf16. */
    static byte[] pooledBf16(TensorSource t, int headDim, int group) throws IOException {
        float[] w = t.toFloats();
        int cols = (int) t.shape()[1];
        int heads = (int) t.shape()[0] / headDim;
        float[] out = new float[heads / group * headDim * cols];
        for (int g = 0; g < heads / group; g++)
            for (int r = 0; r < headDim; r++)
                for (int col = 0; col < cols; col++) {
                    double s = 0;
                    for (int j = 0; j < group; j++) s += w[((g * group + j) * headDim + r) * cols + col];
                    out[(g * headDim + r) * cols + col] = (float) (s / group);
                }
        MemorySegment seg = Floats.encode(out, io.headfuse.formats.DType.BF16);
        return seg.toArray(ValueLayout.JAVA_BYTE);
    }

    @Test
    void sameInputGivesByteIdenticalOutput() throws IOException {
        Path in = Assets.model("headfuse-mha-s");
        Path out = tmp.resolve("twice");
        Headfuse.convert(ConvertOptions.of(in, out, 2).withShardSize(4_000_000L));
        Map<String, String> first = Cli.hashes(out);
        JsonNode firstReport = LlamaConfig.JSON.readTree(out.resolve("headfuse.json").toFile());
        Headfuse.convert(ConvertOptions.of(in, out, 2).withShardSize(4_000_000L).withForce(true));
        Map<String, String> second = Cli.hashes(out);
        assertTrue(first.size() >= 8, "several shards: " + first.keySet());
        first.remove("headfuse.json");
        second.remove("headfuse.json");
        assertEquals(first, second);
        // the report differs only in its wall time
        var a = (com.fasterxml.jackson.databind.node.ObjectNode) firstReport;
        var b = (com.fasterxml.jackson.databind.node.ObjectNode) LlamaConfig.JSON.readTree(out.resolve("headfuse.json").toFile());
        a.remove("wall_seconds");
        b.remove("wall_seconds");
        assertEquals(a, b);
    }

    @Test
    void dtypeConversionRoundsOnce() throws IOException {
        Path out = tmp.resolve("f32");
        Headfuse.convert(ConvertOptions.of(Assets.model("headfuse-mha-s"), out, 8).withDtype(io.headfuse.formats.DType.F32));
        try (Checkpoint src = Checkpoints.open(Assets.model("headfuse-mha-s")); Checkpoint dst = Checkpoints.open(out)) {
            assertEquals(io.headfuse.formats.DType.F32, dst.storedDtype());
            assertEquals("float32", dst.config().json().get("dtype").asText());
            for (TensorSource t : src.tensors()) assertArrayEquals(t.toFloats(), dst.tensor(t.name()).toFloats(), t.name());
        }
    }
}
