package io.headfuse.formats.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.testkit.Assets;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.DType;
import io.headfuse.formats.HeapTensor;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir Path tmp;

    /** A safetensors file with the given header text and {@code dataBytes} zero bytes of data. */
    private Path file(String name, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private static CheckpointException fails(Path p) {
        return assertThrows(CheckpointException.class, () -> SafetensorsFile.open(p));
    }

    @Test
    void readsWhatTheWriterWrote() throws IOException {
        float[] a = {1f, -2.5f, 3.25f, 0f, 1e-3f, 65504f};
        List<TensorSource> in = List.of(
                HeapTensor.of("a", DType.F32, new long[] {2, 3}, a),
                HeapTensor.of("b", DType.BF16, new long[] {3, 2}, a),
                HeapTensor.of("c", DType.F16, new long[] {6}, a));
        Path f = tmp.resolve("x.safetensors");
        SafetensorsWriter.writeFile(f, in, null);
        SafetensorsFile sf = SafetensorsFile.open(f);
        assertEquals("pt", sf.metadata().get("format"));
        assertEquals(List.of("a", "b", "c"), sf.tensors().stream().map(TensorSource::name).toList());
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(in.get(i).shape(), sf.tensors().get(i).shape());
            assertEquals(in.get(i).dtype(), sf.tensors().get(i).dtype());
            assertArrayEquals(in.get(i).toFloats(), sf.tensors().get(i).toFloats());
        }
        assertArrayEquals(a, sf.tensors().get(0).toFloats());
        assertEquals(0, sf.dataStart() % 8, "header padded to 8 bytes");
    }

    @Test
    void readsARealShardLazily() throws IOException {
        Path shard = Assets.model("stories260K-mha-hf").resolve("model.safetensors");
        SafetensorsFile sf = SafetensorsFile.open(shard);
        TensorSource embed = sf.tensors().stream().filter(t -> t.name().equals("model.embed_tokens.weight")).findFirst().orElseThrow();
        assertArrayEquals(new long[] {512, 64}, embed.shape());
        assertEquals(DType.F32, embed.dtype());
        float[] rows = embed.rows(3, 2);
        float[] all = embed.toFloats();
        assertArrayEquals(Arrays.copyOfRange(all, 3 * 64, 5 * 64), rows);
    }

    @Test
    void truncatedDataSectionIsNamed() throws IOException {
        Path shard = Assets.model("stories260K-mha-hf").resolve("model.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        Path cut = tmp.resolve("model.safetensors");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length - 1000));
        CheckpointException e = fails(cut);
        assertTrue(e.getMessage().startsWith(cut.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("beyond the data section") && e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("tensor "), e.getMessage());
    }

    @Test
    void headerLengthBeyondTheFile() throws IOException {
        Path p = tmp.resolve("h.safetensors");
        ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000).putLong(0);
        Files.write(p, b.array());
        assertTrue(fails(p).getMessage().contains("header length 1000 runs beyond the end of the file (16 bytes)"));
        ByteBuffer huge = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).putLong(0);
        Files.write(p, huge.array());
        assertTrue(fails(p).getMessage().contains("out of bounds"));
        Files.write(p, new byte[3]);
        assertTrue(fails(p).getMessage().contains("truncated"));
    }

    @Test
    void overlappingOffsets() throws IOException {
        Path p = file("o.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12);
        String m = fails(p).getMessage();
        assertTrue(m.contains("tensor b") && m.contains("overlap tensor a"), m);
    }

    @Test
    void wrongByteLength() throws IOException {
        Path p = file("w.safetensors", "{\"a\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", 8);
        String m = fails(p).getMessage();
        assertTrue(m.contains("tensor a") && m.contains("byte length 8 does not match shape [2,3] x BF16 (12 bytes)"), m);
    }

    @Test
    void badJsonUnknownDtypeAndBadShape() throws IOException {
        assertTrue(fails(file("j.safetensors", "{\"a\": [", 0)).getMessage().contains("not valid JSON"));
        assertTrue(fails(file("d.safetensors", "{\"a\":{\"dtype\":\"F8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1)).getMessage().contains("unknown dtype"));
        assertTrue(fails(file("s.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4)).getMessage().contains("bad dimension"));
        assertTrue(fails(file("n.safetensors", "[1,2]", 0)).getMessage().contains("does not start with '{'"));
        assertTrue(fails(file("r.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8)).getMessage().contains("not an increasing pair"));
    }

    @Test
    void sameTensorsGiveByteIdenticalFiles() throws IOException {
        float[] v = new float[1000];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i);
        List<TensorSource> ts = List.of(HeapTensor.of("x", DType.BF16, new long[] {10, 100}, v), HeapTensor.of("y", DType.F32, new long[] {1000}, v));
        Files.createDirectories(tmp.resolve("a"));
        Files.createDirectories(tmp.resolve("b"));
        SafetensorsWriter.write(tmp.resolve("a"), ts, 3000, null);
        SafetensorsWriter.write(tmp.resolve("b"), ts, 3000, null);
        for (String n : List.of("model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", HfCheckpoint.INDEX))
            assertArrayEquals(Files.readAllBytes(tmp.resolve("a").resolve(n)), Files.readAllBytes(tmp.resolve("b").resolve(n)), n);
        String index = Files.readString(tmp.resolve("a").resolve(HfCheckpoint.INDEX));
        assertTrue(index.contains("\"total_size\" : 6000"), index);
    }
}
