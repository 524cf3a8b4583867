package io.headfuse.formats.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.headfuse.formats.DType;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A safetensors file over 2 GiB (sparse, so it costs no disk): tensors past the 2^31 offset read correctly. */
class LargeFileTest {
    @TempDir Path tmp;

    @Test
    void readsTensorsBeyondTwoGiB() throws IOException {
        long big = 2_300_000_000L; // a U8 tensor larger than any int-indexed buffer
        String header = "{\"pad\":{\"dtype\":\"U8\",\"shape\":[" + big + "],\"data_offsets\":[0," + big + "]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + big + "," + (big + 16) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path f = tmp.resolve("big.safetensors");
        float[] x = {1.5f, -2f, 3.25f, 1e-7f};
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).flip());
            ch.write(ByteBuffer.wrap(h));
            ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : x) b.putFloat(v);
            ch.write(b.flip(), 8 + h.length + big); // the gap before it stays a hole
        }
        SafetensorsFile sf = SafetensorsFile.open(f);
        TensorSource t = sf.tensors().get(1);
        assertEquals("x", t.name());
        assertEquals(DType.F32, t.dtype());
        assertArrayEquals(x, t.toFloats());
        assertEquals(big, sf.tensors().get(0).byteSize());
    }
}
