package io.headfuse.formats;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.WritableByteChannel;
import java.util.Arrays;

/**
 * A named tensor whose bytes are produced only when asked for: a region of a mapped file, a lazily computed
 * rewrite, or an array on the heap. Checkpoints hand these out so that nothing is read before it is needed,
 * and a writer can stream each one to its output without the whole model ever being resident.
 */
public interface TensorSource {
    String name();

    DType dtype();

    /** Row-major shape, outermost first (as torch and safetensors store it). */
    long[] shape();

    default long numel() {
        long n = 1;
        for (long d : shape()) n = Math.multiplyExact(n, d);
        return n;
    }

    default long byteSize() { return Math.multiplyExact(numel(), dtype().size()); }

    /**
     * The raw little-endian bytes, valid while {@code arena} is open. File-backed tensors map just their own
     * region, so closing the arena unmaps it and the pages stop counting against the process.
     */
    MemorySegment bytes(Arena arena) throws IOException;

    /** Streams the raw bytes to {@code out}; file-backed tensors let the kernel copy them. */
    default void copyTo(WritableByteChannel out) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Channels2.writeFully(out, bytes(arena));
        }
    }

    /** All elements widened to fp32 (for tensors of a few hundred MB at most). */
    default float[] toFloats() throws IOException {
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) throw new IOException("tensor " + name() + " has " + n + " elements: too many for one float[]");
        try (Arena arena = Arena.ofConfined()) {
            return Floats.read(bytes(arena), dtype(), 0, (int) n);
        }
    }

    /** Rows {@code [from, from+count)} of a 2-D (or higher, flattened after dim 0) tensor, widened to fp32. */
    default float[] rows(long from, int count) throws IOException {
        long[] s = shape();
        long rowLen = numel() / s[0];
        try (Arena arena = Arena.ofConfined()) {
            return Floats.read(bytes(arena), dtype(), from * rowLen, Math.toIntExact(count * rowLen));
        }
    }

    static String describe(long[] shape) { return Arrays.toString(shape); }
}
