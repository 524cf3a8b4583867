package io.headfuse.formats.llama2c;

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
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.LlamaShapes;
import io.headfuse.formats.MappedTensor;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.meta.RopePermutedTensor;
import io.headfuse.formats.safetensors.HfCheckpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Llama2cCheckpointTest {
    @TempDir Path tmp;

    @Test
    void mhaBinEqualsHfBitForBit() throws IOException {
        assertMatchesHf(Assets.model("stories260K-mha-llama2c").resolve("stories260K-mha.bin"), "stories260K-mha-hf");
    }

    @Test
    void originalStories260KEqualsGqaHfBitForBit() throws IOException {
        assertMatchesHf(Assets.model("stories260K").resolve("stories260K.bin"), "stories260K-gqa-hf");
    }

    private static void assertMatchesHf(Path bin, String hf) throws IOException {
        try (Checkpoint c = Llama2cCheckpoint.open(bin); Checkpoint h = HfCheckpoint.open(Assets.model(hf))) {
            assertEquals("llama2c", c.format());
            LlamaShapes.validate(c);
            assertSameArchitecture(h.config(), c.config());
            assertSameTensors(h, c);
        }
    }

    @Test
    void tensorsAreSlicesOfTheFile() throws IOException {
        Path bin = Assets.model("stories260K").resolve("stories260K.bin");
        Llama2cCheckpoint c = Llama2cCheckpoint.open(bin);
        assertEquals(0, c.version());
        assertEquals(List.of(bin), c.files());
        assertEquals(List.of(bin.getParent().resolve("tok512.bin")), c.sideFiles());
        LlamaConfig cfg = c.config();
        assertEquals(List.of(64, 8, 4, 5, 172, 512, 512), List.of(cfg.hiddenSize(), cfg.numHeads(), cfg.numKvHeads(), cfg.numLayers(),
                cfg.intermediateSize(), cfg.vocabSize(), cfg.maxPositions()));
        assertTrue(cfg.tieWordEmbeddings());
        assertFalse(c.has(LlamaNames.LM_HEAD));
        for (TensorSource t : c.tensors()) {
            TensorSource s = t instanceof RopePermutedTensor r ? r.source() : t;
            assertInstanceOf(MappedTensor.class, s, t.name());
        }
        assertEquals(28, ((MappedTensor) c.tensor(LlamaNames.EMBED)).offset());
        assertInstanceOf(Llama2cCheckpoint.class, Checkpoints.open(bin.getParent())); // the folder: one model .bin beside tok512.bin
    }

    @Test
    void truncatedFileIsNamed() throws IOException {
        Path bin = Assets.model("stories260K").resolve("stories260K.bin");
        byte[] all = Files.readAllBytes(bin);
        Path cut = Files.write(tmp.resolve("cut.bin"), Arrays.copyOf(all, all.length - 100));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Llama2cCheckpoint.open(cut));
        assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated: expected " + all.length + " bytes, found " + (all.length - 100)), e.getMessage());

        Path longer = Files.write(tmp.resolve("long.bin"), Arrays.copyOf(all, all.length + 4));
        assertTrue(assertThrows(CheckpointException.class, () -> Llama2cCheckpoint.open(longer)).getMessage().contains("size mismatch"));
        Path tiny = Files.write(tmp.resolve("tiny.bin"), new byte[10]);
        assertTrue(assertThrows(CheckpointException.class, () -> Llama2cCheckpoint.open(tiny)).getMessage().contains("truncated: expected at least 28 bytes"));
    }

    @Test
    void badHeadersAreRefused() throws IOException {
        Path zeros = Files.write(tmp.resolve("zeros.bin"), new byte[4096]);
        assertTrue(assertThrows(CheckpointException.class, () -> Llama2cCheckpoint.open(zeros)).getMessage().contains("every value must be positive"));
        Path odd = Files.write(tmp.resolve("odd.bin"), header(64, 172, 5, 8, 3, 512, 512));
        assertTrue(assertThrows(CheckpointException.class, () -> Llama2cCheckpoint.open(odd)).getMessage().contains("n_kv_heads does not divide n_heads"));
        Path huge = Files.write(tmp.resolve("huge.bin"), header(1 << 30, Integer.MAX_VALUE, Integer.MAX_VALUE, 2, 2, Integer.MAX_VALUE, 2));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Llama2cCheckpoint.open(huge));
        assertTrue(e.getMessage().startsWith(huge.toString()) && e.getMessage().contains("implies more than 2^63 bytes"), e.getMessage());
        ByteBuffer v2 = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN).putInt(0x616b3432).putInt(2);
        Path q8 = Files.write(tmp.resolve("q8.bin"), v2.array());
        assertTrue(assertThrows(CheckpointException.class, () -> Llama2cCheckpoint.open(q8)).getMessage().contains("version 2 (Q8_0 quantized)"));
    }

    @Test
    void negativeVocabMeansASeparateClassifier() throws IOException {
        Path bin = Assets.model("stories260K").resolve("stories260K.bin");
        byte[] all = Files.readAllBytes(bin);
        ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).putInt(20, -512);
        byte[] wcls = Arrays.copyOfRange(all, 28, 28 + 512 * 64 * 4);
        wcls[7] ^= 1;
        Path untied = Files.write(tmp.resolve("untied.bin"), concat(all, wcls));
        Llama2cCheckpoint c = Llama2cCheckpoint.open(untied);
        assertFalse(c.config().tieWordEmbeddings());
        assertEquals(512, c.config().vocabSize());
        assertArrayEquals(wcls, bytes(c.tensor(LlamaNames.LM_HEAD)));
        assertSameTensorsExceptHead(Llama2cCheckpoint.open(bin), c);
    }

    @Test
    void version1HeaderAndOrderReadTheSameWeights() throws IOException {
        Llama2cCheckpoint v0 = Llama2cCheckpoint.open(Assets.model("stories260K").resolve("stories260K.bin"));
        int layers = v0.config().numLayers();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer h = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN).putInt(0x616b3432).putInt(1)
                .putInt(64).putInt(172).putInt(layers).putInt(8).putInt(4).putInt(512).putInt(512).put((byte) 1);
        out.writeBytes(h.array());
        // export.py version1_export: norms first, then the embedding, then each matrix kind over all layers
        for (int i = 0; i < layers; i++) out.writeBytes(raw(v0.tensor(LlamaNames.inputNorm(i))));
        for (int i = 0; i < layers; i++) out.writeBytes(raw(v0.tensor(LlamaNames.postNorm(i))));
        out.writeBytes(raw(v0.tensor(LlamaNames.NORM)));
        out.writeBytes(raw(v0.tensor(LlamaNames.EMBED)));
        for (var kind : List.<java.util.function.IntFunction<String>>of(LlamaNames::q, LlamaNames::k, LlamaNames::v, LlamaNames::o,
                LlamaNames::gate, LlamaNames::down, LlamaNames::up))
            for (int i = 0; i < layers; i++) out.writeBytes(raw(v0.tensor(kind.apply(i))));
        Path v1file = Files.write(tmp.resolve("v1.bin"), out.toByteArray());
        Llama2cCheckpoint v1 = Llama2cCheckpoint.open(v1file);
        assertEquals(1, v1.version());
        assertSameArchitecture(v0.config(), v1.config());
        assertSameTensors(v0, v1);
    }

    private static void assertSameTensorsExceptHead(Checkpoint a, Checkpoint b) throws IOException {
        for (TensorSource t : a.tensors()) assertArrayEquals(bytes(t), bytes(b.tensor(t.name())), t.name());
        assertEquals(a.tensors().size() + 1, b.tensors().size());
    }

    /** The bytes as stored in the .bin: q/k before the RoPE permutation. */
    private static byte[] raw(TensorSource t) throws IOException {
        return bytes(t instanceof RopePermutedTensor r ? r.source() : t);
    }

    private static byte[] bytes(TensorSource t) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            return t.bytes(arena).toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private static byte[] header(int... ints) {
        ByteBuffer b = ByteBuffer.allocate(4 * ints.length + 64).order(ByteOrder.LITTLE_ENDIAN); // a little data after the header
        for (int v : ints) b.putInt(v);
        return b.array();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
