package io.headfuse.uptrain;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.DType;
import io.headfuse.formats.HeapTensor;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.TensorSource;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Generator;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.PerplexityResult;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Attention through kv index maps must be exact. stories260K-mha-hf is stories260K-gqa-hf with every kv head
 * stored twice, so: the GQA checkpoint (contiguous map), the MHA checkpoint, the MHA checkpoint read through the
 * map that uses only one of each pair, and a checkpoint whose kv heads were duplicated into a shuffled order and
 * read through arbitrary (different for K and V, different per layer) maps, are all the same function.
 */
class KvHeadMapTest {
    static final int[] IDS = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267};

    @Test
    void contiguousGqaEqualsMha() {
        float[][] mha = SharedModels.model("stories260K-mha-hf").logits(IDS);
        float[][] gqa = SharedModels.model("stories260K-gqa-hf").logits(IDS);
        assertClose(mha, gqa, 1e-5);
    }

    @Test
    void mhaReadThroughEquivalentMapEqualsPooledCheckpoint() throws Exception {
        Path mhaDir = Assets.model("stories260K-mha-hf");
        String text = Files.readString(Assets.text("tinystories/TinyStories-valid-sample30k.txt"), StandardCharsets.UTF_8).substring(0, 6000);
        TextTokenizer tok = SharedModels.tokenizer("stories260K-mha-hf");
        try (Checkpoint ckpt = Checkpoints.open(mhaDir)) {
            LlamaConfig c = ckpt.config();
            int[][] map = new int[c.numLayers()][c.numHeads()];
            for (int[] row : map) for (int h = 0; h < row.length; h++) row[h] = 2 * (h / 2);
            try (LlamaModel mapped = LlamaModel.load(ckpt, c.withHeadMaps(map, map), Device.cpu())) {
                EvalOptions o = EvalOptions.defaults().withWindow(256);
                PerplexityResult a = Perplexity.evaluate(mapped, tok, text, o);
                PerplexityResult b = Perplexity.evaluate(SharedModels.model("stories260K-gqa-hf"), tok, text, o);
                System.out.printf("stories260K ppl: MHA through map %.6f, pooled GQA checkpoint %.6f%n", a.ppl(), b.ppl());
                assertEquals(b.tokens(), a.tokens());
                assertEquals(b.ppl(), a.ppl(), 1e-6 * b.ppl());
            }
        }
    }

    @Test
    void arbitraryPerLayerKvMapsAreExact() throws Exception {
        Path gqaDir = Assets.model("stories260K-gqa-hf");
        try (Checkpoint gqa = Checkpoints.open(gqaDir)) {
            LlamaConfig c = gqa.config();
            int heads = c.numHeads(), kv = c.numKvHeads(), d = c.headDim();
            int slots = kv * 2;
            Random rnd = new Random(7);
            Map<String, TensorSource> replaced = new java.util.HashMap<>();
            int[][] kMap = new int[c.numLayers()][], vMap = new int[c.numLayers()][];
            for (int l = 0; l < c.numLayers(); l++) {
                kMap[l] = duplicate(gqa.tensor(LlamaNames.k(l)), c, slots, rnd, replaced);
                vMap[l] = duplicate(gqa.tensor(LlamaNames.v(l)), c, slots, rnd, replaced);
            }
            LlamaConfig wide = c.withKvHeads(slots).withHeadMaps(kMap, vMap);
            Checkpoint expanded = new Replaced(gqa, wide, replaced);
            try (LlamaModel m = LlamaModel.load(expanded, wide, Device.cpu())) {
                assertTrue(m.kvHeadMaps().k(0).length == heads && slots == wide.numKvHeads() && d > 0);
                LlamaModel original = SharedModels.model("stories260K-gqa-hf");
                assertClose(original.logits(IDS), m.logits(IDS), 1e-5);
                // The kv cache path stores kv heads and gathers at attention time: generation must agree too.
                assertArrayEquals(Generator.greedy(original, new int[] {1}, 40), Generator.greedy(m, new int[] {1}, 40));
            }
        }
    }

    @Test
    void mqaCheckpointEqualsMhaReadThroughAllToOneMap() throws Exception {
        try (Checkpoint mha = Checkpoints.open(Assets.model("stories260K-mha-hf"))) {
            LlamaConfig c = mha.config();
            int rows = c.headDim();
            Map<String, TensorSource> headZero = new java.util.HashMap<>();
            for (int l = 0; l < c.numLayers(); l++)
                for (TensorSource t : List.of(mha.tensor(LlamaNames.k(l)), mha.tensor(LlamaNames.v(l))))
                    headZero.put(t.name(), HeapTensor.of(t.name(), DType.F32, new long[] {rows, c.hiddenSize()}, t.rows(0, rows)));
            LlamaConfig mqa = c.withKvHeads(1);
            int[][] zeros = new int[c.numLayers()][c.numHeads()];
            try (LlamaModel single = LlamaModel.load(new Replaced(mha, mqa, headZero), mqa, Device.cpu());
                 LlamaModel mapped = LlamaModel.load(mha, c.withHeadMaps(zeros, zeros), Device.cpu())) {
                float[][] a = single.logits(IDS);
                // The gather is exact; the K/V projections differ in shape (1 vs 8 heads), so BLAS rounds differently.
                assertClose(a, mapped.logits(IDS), 1e-4);
                float[][] full = SharedModels.model("stories260K-mha-hf").logits(IDS);
                double diff = 0;
                for (int t = 0; t < a.length; t++) for (int v = 0; v < a[t].length; v++) diff = Math.max(diff, Math.abs(a[t][v] - full[t][v]));
                assertTrue(diff > 1e-2, "MQA should change the function");
            }
        }
    }

    /**
     * Writes the kv heads of {@code t} into {@code slots} slots holding each original head twice in a random
     * order, and returns the map that sends query head h to a slot holding its original kv head h / group.
     */
    private static int[] duplicate(TensorSource t, LlamaConfig c, int slots, Random rnd, Map<String, TensorSource> out) throws IOException {
        int kv = c.numKvHeads(), d = c.headDim(), hidden = c.hiddenSize();
        List<Integer> src = new ArrayList<>();
        for (int s = 0; s < slots; s++) src.add(s % kv);
        java.util.Collections.shuffle(src, rnd);
        float[] w = t.toFloats();
        float[] wide = new float[slots * d * hidden];
        for (int s = 0; s < slots; s++)
            System.arraycopy(w, src.get(s) * d * hidden, wide, s * d * hidden, d * hidden);
        out.put(t.name(), HeapTensor.of(t.name(), DType.F32, new long[] {(long) slots * d, hidden}, wide));
        int[] map = new int[c.numHeads()];
        for (int h = 0; h < map.length; h++) {
            int want = h / c.groupSize();
            List<Integer> candidates = new ArrayList<>();
            for (int s = 0; s < slots; s++) if (src.get(s) == want) candidates.add(s);
            map[h] = candidates.get(rnd.nextInt(candidates.size()));
        }
        return map;
    }

    /** A checkpoint with some tensors replaced and another config. */
    private record Replaced(Checkpoint base, LlamaConfig config, Map<String, TensorSource> replaced) implements Checkpoint {
        @Override public Path source() { return base.source(); }
        @Override public String format() { return base.format(); }
        @Override public List<TensorSource> tensors() {
            return base.tensors().stream().map(t -> replaced.getOrDefault(t.name(), t)).toList();
        }
        @Override public List<Path> files() { return base.files(); }
        @Override public List<Path> sideFiles() { return base.sideFiles(); }
    }

    static void assertClose(float[][] a, float[][] b, double tol) {
        double max = 0;
        for (int t = 0; t < a.length; t++)
            for (int v = 0; v < a[t].length; v++) max = Math.max(max, Math.abs(a[t][v] - b[t][v]));
        assertTrue(max <= tol, "max abs diff " + max);
    }
}
