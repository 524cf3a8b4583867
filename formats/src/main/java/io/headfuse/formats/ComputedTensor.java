package io.headfuse.formats;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A tensor computed on demand from others (a pooled kv head, a permuted Meta weight). Nothing is computed until
 * a writer or the runtime asks, and nothing is kept afterwards, so a whole model never sits on the heap.
 */
public record ComputedTensor(String name, DType dtype, long[] shape, Compute compute) implements TensorSource {
    /** Produces the tensor's values in fp32, row-major. */
    @FunctionalInterface
    public interface Compute {
        float[] values() throws IOException;
    }

    public ComputedTensor { shape = shape.clone(); }

    @Override public long[] shape() { return shape.clone(); }

    @Override
    public float[] toFloats() throws IOException {
        float[] v = compute.values();
        if (v.length != numel()) throw new IOException("tensor " + name + ": computed " + v.length + " values for shape " + TensorSource.describe(shape));
        return v;
    }

    @Override
    public MemorySegment bytes(Arena arena) throws IOException {
        MemorySegment seg = arena.allocate(byteSize(), 8);
        Floats.write(toFloats(), 0, (int) numel(), seg, dtype, 0);
        return seg;
    }
}
