package io.headfuse.formats;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.WritableByteChannel;

/** {@code source} re-encoded as another floating dtype, converted in bounded chunks while it is written. */
public record CastTensor(TensorSource source, DType dtype) implements TensorSource {
    private static final int CHUNK = 1 << 20; // elements per conversion step: bounded heap whatever the tensor size

    public CastTensor {
        if (!source.dtype().isFloat() || !dtype.isFloat())
            throw new IllegalArgumentException("tensor " + source.name() + ": cannot cast " + source.dtype() + " to " + dtype);
    }

    /** {@code t} as {@code type}: itself when it already is, or when it is not a floating tensor. */
    public static TensorSource of(TensorSource t, DType type) {
        if (type == null || t.dtype() == type || !t.dtype().isFloat()) return t;
        return new CastTensor(t, type);
    }

    @Override public String name() { return source.name(); }
    @Override public long[] shape() { return source.shape(); }

    @Override
    public MemorySegment bytes(Arena arena) throws IOException {
        MemorySegment out = arena.allocate(byteSize(), 8);
        try (Arena in = Arena.ofConfined()) {
            MemorySegment src = source.bytes(in);
            long n = numel();
            for (long i = 0; i < n; i += CHUNK) {
                int c = (int) Math.min(CHUNK, n - i);
                Floats.write(Floats.read(src, source.dtype(), i, c), 0, c, out, dtype, i);
            }
        }
        return out;
    }

    @Override
    public void copyTo(WritableByteChannel out) throws IOException {
        try (Arena in = Arena.ofConfined()) {
            MemorySegment src = source.bytes(in);
            long n = numel();
            MemorySegment buf = MemorySegment.ofArray(new byte[CHUNK * dtype.size()]);
            for (long i = 0; i < n; i += CHUNK) {
                int c = (int) Math.min(CHUNK, n - i);
                Floats.write(Floats.read(src, source.dtype(), i, c), 0, c, buf, dtype, 0);
                Channels2.writeFully(out, buf.asSlice(0, (long) c * dtype.size()));
            }
        }
    }
}
