package io.headfuse.formats.meta;

import static io.headfuse.formats.meta.MetaTestSupport.assertSameArchitecture;
import static io.headfuse.formats.meta.MetaTestSupport.assertSameTensors;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.testkit.Assets;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.MappedTensor;
import io.headfuse.formats.meta.MetaTestSupport.Saved;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Model-parallel checkpoints: stories260K split over ranks the way Meta's parallel layers split it, then merged. */
class MetaShardsTest {
    @TempDir Path tmp;

    /** {@code embeddingDim}: 1 as Llama 1/2 split tok_embeddings (by columns), 0 as Llama 3 (by vocabulary rows). */
    @ParameterizedTest
    @ValueSource(ints = {1, 0})
    void shardsMergeToTheOneShardTensors(int embeddingDim) throws IOException {
        for (String model : List.of("stories260K-mha-meta", "stories260K-gqa-meta")) {
            Path original = Assets.model(model);
            Path split = splitMetaWay(original, tmp.resolve(model + "-" + embeddingDim), 2, embeddingDim);
            MetaCheckpoint one = MetaCheckpoint.open(original), two = MetaCheckpoint.open(split);
            assertEquals(2, two.files().size());
            assertSameArchitecture(one.config(), two.config());
            assertSameTensors(one, two);
            assertInstanceOf(ConcatTensor.class, ((RopePermutedTensor) two.tensor(LlamaNames.q(0))).source());
            assertInstanceOf(MappedTensor.class, two.tensor(LlamaNames.inputNorm(0))); // replicated: rank 0's, still mapped
            assertEquals(LlamaNames.EMBED, two.tensors().get(0).name()); // Meta's order, renamed
        }
    }

    @Test
    void fourShardsOfTheGqaModelMergeToo() throws IOException {
        Path original = Assets.model("stories260K-gqa-meta"); // 4 kv heads: one per rank
        assertSameTensors(MetaCheckpoint.open(original), MetaCheckpoint.open(splitMetaWay(original, tmp.resolve("four"), 4, 1)));
    }

    @Test
    void shardsThatDisagreeAreNamed() throws IOException {
        Path split = splitMetaWay(Assets.model("stories260K-mha-meta"), tmp.resolve("bad"), 2, 1);
        Path rank1 = split.resolve("consolidated.01.pth");
        List<Saved> kept = new ArrayList<>();
        for (MappedTensor t : TorchArchive.read(rank1).tensors().values())
            if (!t.name().equals("layers.3.feed_forward.w2.weight")) kept.add(new Saved(t.name(), t.shape(), MetaCheckpointTest.bytes(t)));
        MetaTestSupport.writePth(rank1, kept);
        CheckpointException e = assertThrows(CheckpointException.class, () -> MetaCheckpoint.open(split));
        assertTrue(e.getMessage().startsWith(rank1.toString()) && e.getMessage().contains("tensor layers.3.feed_forward.w2.weight is missing from this shard"), e.getMessage());

        Files.move(rank1, split.resolve("consolidated.02.pth"));
        e = assertThrows(CheckpointException.class, () -> MetaCheckpoint.open(split));
        assertTrue(e.getMessage().contains("shards are numbered [0, 2]"), e.getMessage());
    }

    /**
     * Writes {@code ranks} consolidated.NN.pth files from a one-shard Meta checkpoint: column-parallel weights
     * (wq/wk/wv/w1/w3/output) split by rows, row-parallel ones (wo/w2) by columns, the embedding along
     * {@code embeddingDim}, norms replicated.
     */
    static Path splitMetaWay(Path original, Path dir, int ranks, int embeddingDim) throws IOException {
        Files.createDirectories(dir);
        Files.copy(original.resolve("params.json"), dir.resolve("params.json"));
        List<List<Saved>> shards = new ArrayList<>();
        for (int r = 0; r < ranks; r++) shards.add(new ArrayList<>());
        for (MappedTensor t : TorchArchive.read(original.resolve("consolidated.00.pth")).tensors().values()) {
            byte[] data = MetaCheckpointTest.bytes(t);
            String n = t.name();
            int dim = n.endsWith("norm.weight") ? -1
                    : n.equals("tok_embeddings.weight") ? embeddingDim
                    : n.endsWith("attention.wo.weight") || n.endsWith("feed_forward.w2.weight") ? 1 : 0;
            for (int r = 0; r < ranks; r++) shards.get(r).add(dim < 0 ? new Saved(n, t.shape(), data) : part(n, t.shape(), data, dim, r, ranks));
        }
        for (int r = 0; r < ranks; r++) MetaTestSupport.writePth(dir.resolve(String.format("consolidated.%02d.pth", r)), shards.get(r));
        return dir;
    }

    private static Saved part(String name, long[] shape, byte[] data, int dim, int rank, int ranks) {
        int rows = (int) shape[0], cols = (int) shape[1];
        if (dim == 0) {
            int n = rows / ranks;
            byte[] out = new byte[n * cols * 4];
            System.arraycopy(data, rank * n * cols * 4, out, 0, out.length);
            return new Saved(name, new long[] {n, cols}, out);
        }
        int n = cols / ranks;
        byte[] out = new byte[rows * n * 4];
        for (int r = 0; r < rows; r++) System.arraycopy(data, (r * cols + rank * n) * 4, out, r * n * 4, n * 4);
        return new Saved(name, new long[] {rows, n}, out);
    }
}
