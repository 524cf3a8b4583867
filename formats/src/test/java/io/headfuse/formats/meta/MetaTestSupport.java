package io.headfuse.formats.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.TensorSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Comparisons of checkpoints, and a minimal torch.save writer to build .pth files (good and malicious) in tests. */
public final class MetaTestSupport {
    private MetaTestSupport() {}

    /** Same tensor names (as sets), and each tensor the same dtype, shape and bytes. */
    public static void assertSameTensors(Checkpoint expected, Checkpoint actual) throws IOException {
        List<String> e = expected.tensors().stream().map(TensorSource::name).sorted().toList();
        List<String> a = actual.tensors().stream().map(TensorSource::name).sorted().toList();
        assertEquals(e, a, "tensor names");
        for (String name : e) {
            TensorSource x = expected.tensor(name), y = actual.tensor(name);
            assertEquals(x.dtype(), y.dtype(), name + " dtype");
            assertArrayEquals(x.shape(), y.shape(), name + " shape");
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment bx = x.bytes(arena), by = y.bytes(arena);
                long at = bx.mismatch(by);
                assertEquals(-1L, at, name + ": bytes differ at byte " + at);
            }
        }
    }

    /** The architecture numbers a converter relies on. */
    public static void assertSameArchitecture(LlamaConfig e, LlamaConfig a) {
        assertEquals(e.hiddenSize(), a.hiddenSize(), "hidden_size");
        assertEquals(e.numHeads(), a.numHeads(), "num_attention_heads");
        assertEquals(e.numKvHeads(), a.numKvHeads(), "num_key_value_heads");
        assertEquals(e.headDim(), a.headDim(), "head_dim");
        assertEquals(e.numLayers(), a.numLayers(), "num_hidden_layers");
        assertEquals(e.intermediateSize(), a.intermediateSize(), "intermediate_size");
        assertEquals(e.vocabSize(), a.vocabSize(), "vocab_size");
        assertEquals(e.tieWordEmbeddings(), a.tieWordEmbeddings(), "tie_word_embeddings");
        assertEquals(e.rmsNormEps(), a.rmsNormEps(), 1e-12, "rms_norm_eps");
        assertEquals(e.ropeTheta(), a.ropeTheta(), "rope_theta");
        assertEquals(e.dtype(), a.dtype(), "dtype");
        assertEquals(e.maxPositions(), a.maxPositions(), "max_position_embeddings");
    }

    /** One tensor to save: float32 data in row-major order, its shape, and the storage key it goes to. */
    public record Saved(String name, long[] shape, byte[] data) {}

    /**
     * Writes {@code tensors} as torch.save (protocol 2, zip, STORED) would: an OrderedDict of
     * {@code _rebuild_tensor_v2} calls on FloatStorages, one per tensor, keyed "0", "1", ...
     */
    public static void writePth(Path file, List<Saved> tensors) throws IOException {
        Pickle p = new Pickle().proto().global("collections", "OrderedDict").op(')').op('R').op('(');
        for (int i = 0; i < tensors.size(); i++) {
            Saved t = tensors.get(i);
            p.str(t.name()).tensor("FloatStorage", String.valueOf(i), t.data().length / 4, 0, t.shape(), contiguousStride(t.shape()));
        }
        p.op('u').op('.');
        Map<String, byte[]> storages = new java.util.LinkedHashMap<>();
        for (int i = 0; i < tensors.size(); i++) storages.put("data/" + i, tensors.get(i).data());
        writeZip(file, "archive", p.bytes(), storages);
    }

    /** A torch-style zip: {@code prefix/data.pkl}, {@code prefix/byteorder}, the storages, {@code prefix/version}. */
    public static void writeZip(Path file, String prefix, byte[] pickle, Map<String, byte[]> storages) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            stored(zip, prefix + "/data.pkl", pickle);
            stored(zip, prefix + "/byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            for (var e : storages.entrySet()) stored(zip, prefix + "/" + e.getKey(), e.getValue());
            stored(zip, prefix + "/version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
    }

    static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(data.length);
        e.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(data);
        zip.closeEntry();
    }

    static long[] contiguousStride(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    /** Hand-assembled pickle opcodes (protocol 2), enough for a state dict and for malicious variants. */
    public static final class Pickle {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        public Pickle proto() { out.write(0x80); out.write(2); return this; }

        public Pickle op(int opcode) { out.write(opcode); return this; }

        /** GLOBAL: 'c' module '\n' name '\n'. */
        public Pickle global(String module, String name) {
            out.write('c');
            out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
            return this;
        }

        /** BINUNICODE. */
        public Pickle str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            out.write('X');
            le32(b.length);
            out.writeBytes(b);
            return this;
        }

        /** BININT. */
        public Pickle integer(long v) {
            out.write('J');
            le32((int) v);
            return this;
        }

        public Pickle ints(long... vs) {
            op('(');
            for (long v : vs) integer(v);
            return op('t');
        }

        /** {@code _rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())}. */
        public Pickle tensor(String storageType, String key, long storageNumel, long offset, long[] shape, long[] stride) {
            global("torch._utils", "_rebuild_tensor_v2").op('(');
            op('(').str("storage").global("torch", storageType).str(key).str("cpu").integer(storageNumel).op('t').op('Q');
            integer(offset).ints(shape).ints(stride).op(0x89).global("collections", "OrderedDict").op(')').op('R');
            return op('t').op('R');
        }

        private void le32(int v) {
            out.write(v);
            out.write(v >>> 8);
            out.write(v >>> 16);
            out.write(v >>> 24);
        }

        public byte[] bytes() { return out.toByteArray(); }
    }
}
