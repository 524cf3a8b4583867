package io.headfuse.formats;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A tensor held on the heap: results of a rewrite (pooled K/V rows) or small tensors read from a pickle. */
public record HeapTensor(String name, DType dtype, long[] shape, MemorySegment data) implements TensorSource {
    public HeapTensor {
        shape = shape.clone();
        long expect = 1;
        for (long d : shape) expect *= d;
        if (data.byteSize() != expect * dtype.size())
            throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes for shape " + TensorSource.describe(shape) + " of " + dtype);
    }

    /** fp32 values encoded as {@code dtype}. */
    public static HeapTensor of(String name, DType dtype, long[] shape, float[] values) {
        return new HeapTensor(name, dtype, shape, Floats.encode(values, dtype));
    }

    @Override public long[] shape() { return shape.clone(); }

    @Override public MemorySegment bytes(Arena arena) { return data.asReadOnly(); }
}
