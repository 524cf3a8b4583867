package io.headfuse.e2e;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.DType;
import io.headfuse.formats.HeapTensor;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Mean-pooling, through the CLI, from inputs other than plain MHA: an already grouped model, and attention biases. */
class MeanPoolInputsTest {
    @TempDir Path tmp;

    /**
     * stories260K-gqa-hf (8 query heads, 4 kv heads) pooled to 2 and 1 kv heads: each output kv head is the fp32
     * mean of its group of input kv heads (computed here in double), every other tensor is copied unchanged, and
     * the result is the model that pooling the MHA twin (each kv head stored twice) gives.
     */
    @ParameterizedTest(name = "gqa 4 -> {0} kv heads")
    @ValueSource(ints = {2, 1})
    void poolsAGqaInputFurther(int kv) throws Exception {
        Path gqa = Assets.model("stories260K-gqa-hf"), out = tmp.resolve("from-gqa"), twin = tmp.resolve("from-mha");
        Cli c = Cli.run("convert", "--model", gqa.toString(), "--kv-heads", String.valueOf(kv), "--out", out.toString());
        assertEquals(0, c.exit(), c.err());
        c = Cli.run("convert", "--model", Assets.model("stories260K-mha-hf").toString(), "--kv-heads", String.valueOf(kv), "--out", twin.toString());
        assertEquals(0, c.exit(), c.err());
        try (Checkpoint in = Checkpoints.open(gqa); Checkpoint a = Checkpoints.open(out); Checkpoint b = Checkpoints.open(twin)) {
            assertEquals(kv, a.config().numKvHeads());
            int headDim = in.config().headDim(), group = in.config().numKvHeads() / kv;
            for (TensorSource t : in.tensors()) {
                int layer = LlamaNames.layerOf(t.name());
                boolean pooled = layer >= 0 && (t.name().equals(LlamaNames.k(layer)) || t.name().equals(LlamaNames.v(layer)));
                float[] got = a.tensor(t.name()).toFloats();
                if (!pooled) {
                    assertArrayEquals(ConvertMeanPoolTest.raw(t), ConvertMeanPoolTest.raw(a.tensor(t.name())), t.name());
                    continue;
                }
                assertEquals((long) kv * headDim, a.tensor(t.name()).shape()[0], t.name());
                float[] want = meanOfRowBlocks(t.toFloats(), (int) t.shape()[1], headDim, group);
                assertArrayEquals(want, got, 1e-6f, t.name());
                assertArrayEquals(b.tensor(t.name()).toFloats(), got, 1e-6f, t.name() + " as pooled from the MHA twin");
            }
        }
    }

    /**
     * A biased checkpoint made from stories260K-mha-hf (random q/k/v biases, attention_bias true) pooled to 2 kv
     * heads: K and V biases are the mean of each group's biases, exactly like their weights; q biases unchanged.
     */
    @ParameterizedTest(name = "biases -> {0} kv heads")
    @ValueSource(ints = {2})
    void poolsAttentionBiases(int kv) throws Exception {
        Path src = Assets.model("stories260K-mha-hf"), biased = tmp.resolve("biased"), out = tmp.resolve("out");
        LlamaConfig cfg;
        List<TensorSource> tensors = new ArrayList<>();
        Random r = new Random(2024);
        try (Checkpoint in = Checkpoints.open(src)) {
            cfg = in.config();
            for (TensorSource t : in.tensors()) tensors.add(HeapTensor.of(t.name(), DType.F32, t.shape(), t.toFloats()));
            int q = cfg.numHeads() * cfg.headDim(), k = cfg.numKvHeads() * cfg.headDim();
            for (int l = 0; l < cfg.numLayers(); l++) {
                tensors.add(HeapTensor.of(LlamaNames.qBias(l), DType.F32, new long[] {q}, gauss(r, q)));
                tensors.add(HeapTensor.of(LlamaNames.kBias(l), DType.F32, new long[] {k}, gauss(r, k)));
                tensors.add(HeapTensor.of(LlamaNames.vBias(l), DType.F32, new long[] {k}, gauss(r, k)));
            }
        }
        Files.createDirectories(biased);
        SafetensorsWriter.write(biased, tensors, 1L << 40, n -> {});
        ObjectNode json = cfg.json();
        json.put("attention_bias", true);
        Files.writeString(biased.resolve("config.json"), LlamaConfig.fromJson(json).toJsonString());
        Files.copy(src.resolve("tok512.bin"), biased.resolve("tok512.bin"));

        Cli c = Cli.run("convert", "--model", biased.toString(), "--kv-heads", String.valueOf(kv), "--out", out.toString());
        assertEquals(0, c.exit(), c.err());
        try (Checkpoint in = Checkpoints.open(biased); Checkpoint o = Checkpoints.open(out)) {
            assertTrue(o.config().attentionBias());
            int group = cfg.numKvHeads() / kv;
            for (int l = 0; l < cfg.numLayers(); l++) {
                assertArrayEquals(ConvertMeanPoolTest.raw(in.tensor(LlamaNames.qBias(l))), ConvertMeanPoolTest.raw(o.tensor(LlamaNames.qBias(l))), "q bias " + l);
                for (String name : new String[] {LlamaNames.kBias(l), LlamaNames.vBias(l)}) {
                    float[] want = meanOfRowBlocks(in.tensor(name).toFloats(), 1, cfg.headDim(), group);
                    assertEquals(kv * cfg.headDim(), o.tensor(name).shape()[0], name);
                    assertArrayEquals(want, o.tensor(name).toFloats(), 1e-6f, name);
                }
            }
        }
    }

    private static float[] gauss(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (0.1 * r.nextGaussian());
        return v;
    }

    /** Rows in blocks of {@code headDim} per kv head; each run of {@code group} blocks replaced by its mean (in double). */
    static float[] meanOfRowBlocks(float[] w, int cols, int headDim, int group) {
        int heads = w.length / cols / headDim;
        float[] out = new float[heads / group * headDim * cols];
        for (int g = 0; g < heads / group; g++)
            for (int i = 0; i < headDim * cols; i++) {
                double s = 0;
                for (int j = 0; j < group; j++) s += w[(g * group + j) * headDim * cols + i];
                out[g * headDim * cols + i] = (float) (s / group);
            }
        return out;
    }
}
