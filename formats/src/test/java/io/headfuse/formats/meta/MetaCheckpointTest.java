package io.headfuse.formats.meta;

import static io.headfuse.formats.meta.MetaTestSupport.assertSameArchitecture;
import static io.headfuse.formats.meta.MetaTestSupport.assertSameTensors;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.testkit.Assets;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.DType;
import io.headfuse.formats.HeapTensor;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.LlamaShapes;
import io.headfuse.formats.MappedTensor;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.meta.MetaTestSupport.Pickle;
import io.headfuse.formats.meta.MetaTestSupport.Saved;
import io.headfuse.formats.safetensors.HfCheckpoint;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaCheckpointTest {
    @TempDir Path tmp;

    @Test
    void mhaMetaEqualsHfBitForBit() throws IOException {
        assertMatchesHf("stories260K-mha-meta", "stories260K-mha-hf");
    }

    @Test
    void gqaMetaEqualsHfBitForBit() throws IOException {
        assertMatchesHf("stories260K-gqa-meta", "stories260K-gqa-hf");
    }

    private static void assertMatchesHf(String meta, String hf) throws IOException {
        try (Checkpoint m = MetaCheckpoint.open(Assets.model(meta)); Checkpoint h = HfCheckpoint.open(Assets.model(hf))) {
            assertEquals("meta-pth", m.format());
            LlamaShapes.validate(m);
            assertSameArchitecture(h.config(), m.config());
            assertSameTensors(h, m);
        }
    }

    @Test
    void oneShardStaysMappedAndOnlyQkAreComputed() throws IOException {
        Path dir = Assets.model("stories260K-gqa-meta");
        MetaCheckpoint c = MetaCheckpoint.open(dir);
        assertEquals(List.of(dir.resolve("consolidated.00.pth")), c.files());
        assertEquals(List.of(dir.resolve("tok512.bin")), c.sideFiles());
        for (TensorSource t : c.tensors()) {
            if (t.name().contains("q_proj") || t.name().contains("k_proj")) {
                RopePermutedTensor r = assertInstanceOf(RopePermutedTensor.class, t, t.name());
                assertInstanceOf(MappedTensor.class, r.source(), t.name());
                assertEquals(t.name().contains("q_proj") ? 8 : 4, r.heads());
            } else {
                assertInstanceOf(MappedTensor.class, t, t.name());
            }
        }
        // output.weight equals the embedding bit for bit: tied, as the HF release of the model
        assertTrue(c.config().tieWordEmbeddings());
        assertFalse(c.has(LlamaNames.LM_HEAD));
        assertEquals(172, c.config().intermediateSize()); // from w1; Meta's formula agrees
        assertEquals(512, c.config().maxPositions());
        assertEquals(DType.F32, c.config().dtype());
        assertEquals("LlamaForCausalLM", c.config().json().get("architectures").get(0).asText());
        assertInstanceOf(MetaCheckpoint.class, Checkpoints.open(dir));
    }

    @Test
    void vocabMinusOneAndMissingKvHeadsComeFromTheWeights() throws IOException {
        Path dir = copyModel("stories260K-mha-meta");
        Files.writeString(dir.resolve("params.json"),
                "{\"dim\": 64, \"n_layers\": 5, \"n_heads\": 8, \"vocab_size\": -1, \"multiple_of\": 4, \"norm_eps\": 1e-05}");
        MetaCheckpoint c = MetaCheckpoint.open(dir);
        assertEquals(512, c.config().vocabSize());
        assertEquals(8, c.config().numKvHeads());
        assertEquals(10000.0, c.config().ropeTheta());
        assertEquals(2048, c.config().maxPositions());
    }

    @Test
    void paramsThatDisagreeWithTheWeightsAreNamed() throws IOException {
        Path dir = copyModel("stories260K-gqa-meta");
        Files.writeString(dir.resolve("params.json"), "{\"dim\": 64, \"n_layers\": 5, \"n_heads\": 8, \"n_kv_heads\": 8, \"vocab_size\": 512, \"norm_eps\": 1e-05}");
        CheckpointException e = assertThrows(CheckpointException.class, () -> MetaCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("consolidated.00.pth") && e.getMessage().contains("layers.0.attention.wk.weight has shape [32, 64]"), e.getMessage());
        Files.writeString(dir.resolve("params.json"), "{\"dim\": 64, \"n_layers\": 5, \"norm_eps\": 1e-05}");
        e = assertThrows(CheckpointException.class, () -> MetaCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("params.json") && e.getMessage().contains("missing key 'n_heads'"), e.getMessage());
        Files.delete(dir.resolve("params.json"));
        assertTrue(assertThrows(CheckpointException.class, () -> MetaCheckpoint.open(dir)).getMessage().contains("no params.json"));
    }

    @Test
    void distinctOutputBecomesAnUntiedLmHead() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("untied"));
        Files.copy(Assets.model("stories260K-mha-meta").resolve("params.json"), dir.resolve("params.json"));
        List<Saved> saved = new ArrayList<>();
        byte[] output = null;
        for (MappedTensor t : TorchArchive.read(Assets.model("stories260K-mha-meta").resolve("consolidated.00.pth")).tensors().values()) {
            byte[] data = bytes(t);
            if (t.name().equals("output.weight")) {
                data[data.length - 1] ^= 1; // the last row differs: the first-row shortcut must not decide alone
                output = data;
            }
            saved.add(new Saved(t.name(), t.shape(), data));
        }
        MetaTestSupport.writePth(dir.resolve("consolidated.00.pth"), saved);
        MetaCheckpoint c = MetaCheckpoint.open(dir);
        assertFalse(c.config().tieWordEmbeddings());
        assertArrayEquals(output, bytes(c.tensor(LlamaNames.LM_HEAD)));
        assertEquals(c.config().numLayers() * 9 + 3, c.tensors().size());
    }

    @Test
    void ropePermutationIsTransformersViewTransposeReshape() throws IOException {
        // 2 heads of 4 dims, 3 columns; Meta row r holds r*10 + c.
        int heads = 2, rows = 8, cols = 3;
        float[] v = new float[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) v[r * cols + c] = r * 10 + c;
        TensorSource meta = HeapTensor.of("w", DType.BF16, new long[] {rows, cols}, v);
        float[] hf = new RopePermutedTensor("w", meta, heads).toFloats();
        // view(2, 2, 2, 3).transpose(1, 2): per head, the even rows then the odd rows
        int[] metaRowOfHfRow = {0, 2, 1, 3, 4, 6, 5, 7};
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) assertEquals(metaRowOfHfRow[r] * 10 + c, hf[r * cols + c], "row " + r);
        assertEquals(DType.BF16, new RopePermutedTensor("w", meta, heads).dtype());
    }

    @Test
    void missingStorageIsNamed() throws IOException {
        Path pth = tmp.resolve("consolidated.00.pth");
        byte[] pkl = new Pickle().proto().op('}').op('(').str("norm.weight")
                .tensor("FloatStorage", "7", 4, 0, new long[] {4}, new long[] {1}).op('u').op('.').bytes();
        MetaTestSupport.writeZip(pth, "consolidated.00", pkl, Map.of("data/0", new byte[16]));
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchArchive.read(pth));
        assertTrue(e.getMessage().startsWith(pth.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("tensor norm.weight: its storage 'data/7' is missing"), e.getMessage());
    }

    @Test
    void viewsOutsideTheirStorageAreRefused() throws IOException {
        Path pth = tmp.resolve("x.pth");
        byte[] pkl = new Pickle().proto().op('}').op('(').str("norm.weight")
                .tensor("FloatStorage", "0", 4, 2, new long[] {4}, new long[] {1}).op('u').op('.').bytes();
        MetaTestSupport.writeZip(pth, "x", pkl, Map.of("data/0", new byte[16]));
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchArchive.read(pth));
        assertTrue(e.getMessage().contains("tensor norm.weight: elements [2, 6) lie outside its storage 'data/0' of 4 F32 elements"), e.getMessage());
    }

    /**
     * A tensor that views part of a storage is checked against the storage's CRC too (the entry's CRC covers the
     * whole storage): intact, it reads its own elements; a flipped byte anywhere in the storage fails the read.
     */
    @Test
    void viewsOfPartOfAStorageAreCrcChecked() throws IOException {
        Path pth = tmp.resolve("v.pth");
        byte[] pkl = new Pickle().proto().op('}').op('(').str("norm.weight")
                .tensor("FloatStorage", "0", 4, 2, new long[] {2}, new long[] {1}).op('u').op('.').bytes();
        java.nio.ByteBuffer storage = java.nio.ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3).putFloat(4);
        MetaTestSupport.writeZip(pth, "v", pkl, Map.of("data/0", storage.array()));
        MappedTensor view = TorchArchive.read(pth).tensors().get("norm.weight");
        assertArrayEquals(new float[] {3, 4}, view.toFloats());

        byte[] z = Files.readAllBytes(pth);
        int at = indexOf(z, storage.array());
        z[at + 1] ^= 0x40; // in element 0, which the tensor does not view
        Files.write(pth, z);
        MappedTensor corrupt = TorchArchive.read(pth).tensors().get("norm.weight");
        CheckpointException e = assertThrows(CheckpointException.class, corrupt::toFloats);
        assertTrue(e.getMessage().startsWith(pth.toString()) && e.getMessage().contains("tensor norm.weight: its bytes fail the CRC-32 check"), e.getMessage());
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++)
                if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("storage bytes not found in the archive");
    }

    @Test
    void nonContiguousTensorsAreRefused() throws IOException {
        Path pth = tmp.resolve("t.pth");
        byte[] pkl = new Pickle().proto().op('}').op('(').str("wq")
                .tensor("HalfStorage", "0", 6, 0, new long[] {2, 3}, new long[] {1, 2}).op('u').op('.').bytes();
        MetaTestSupport.writeZip(pth, "t", pkl, Map.of("data/0", new byte[12]));
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchArchive.read(pth));
        assertTrue(e.getMessage().contains("tensor wq: strides [1, 2] for shape [2, 3] are not contiguous"), e.getMessage());
    }

    @Test
    void compressedStoragesAreRefused() throws IOException {
        Path pth = tmp.resolve("c.pth");
        byte[] pkl = new Pickle().proto().op('}').op('(').str("norm.weight")
                .tensor("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1}).op('u').op('.').bytes();
        try (OutputStream out = Files.newOutputStream(pth); ZipOutputStream zip = new ZipOutputStream(out)) {
            MetaTestSupport.stored(zip, "c/data.pkl", pkl);
            zip.putNextEntry(new ZipEntry("c/data/0")); // DEFLATED, the ZipOutputStream default
            zip.write(new byte[16]);
        }
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchArchive.read(pth));
        assertTrue(e.getMessage().contains("storage entry c/data/0 is compressed"), e.getMessage());
    }

    @Test
    void nonZipAndLegacyFilesAreNamed() throws IOException {
        Path legacy = Files.write(tmp.resolve("old.pth"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10, 0});
        assertTrue(assertThrows(CheckpointException.class, () -> TorchArchive.read(legacy)).getMessage().contains("legacy (pre-1.6) torch.save format"));
        Path junk = Files.writeString(tmp.resolve("junk.pth"), "hello");
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchArchive.read(junk));
        assertTrue(e.getMessage().startsWith(junk.toString()) && e.getMessage().contains("not a zip archive"), e.getMessage());
    }

    @Test
    void unknownWeightsAreRefusedByName() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("extra"));
        Files.copy(Assets.model("stories260K-mha-meta").resolve("params.json"), dir.resolve("params.json"));
        List<Saved> saved = new ArrayList<>();
        for (MappedTensor t : TorchArchive.read(Assets.model("stories260K-mha-meta").resolve("consolidated.00.pth")).tensors().values())
            saved.add(new Saved(t.name(), t.shape(), bytes(t)));
        saved.add(new Saved("layers.0.attention.wq.bias", new long[] {64}, new byte[256]));
        MetaTestSupport.writePth(dir.resolve("consolidated.00.pth"), saved);
        CheckpointException e = assertThrows(CheckpointException.class, () -> MetaCheckpoint.open(dir));
        assertTrue(e.getMessage().contains("tensor layers.0.attention.wq.bias is not a Llama weight"), e.getMessage());
    }

    static byte[] bytes(TensorSource t) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            return t.bytes(arena).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
    }

    private Path copyModel(String name) throws IOException {
        Path src = Assets.model(name), dst = Files.createDirectories(tmp.resolve(name));
        try (var files = Files.list(src)) {
            for (Path p : files.toList()) Files.copy(p, dst.resolve(p.getFileName()));
        }
        return dst;
    }
}
