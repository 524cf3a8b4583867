package io.headfuse.uptrain.train;

import ai.djl.ndarray.NDArray;
import io.headfuse.formats.DType;
import io.headfuse.formats.Floats;
import io.headfuse.formats.TensorSource;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A live fp32 array of the runtime seen as a tensor to write: its values are copied off the device only when the
 * writer asks for them, one tensor at a time, and encoded as {@code dtype}.
 */
public record NdArrayTensor(String name, NDArray array, DType dtype) implements TensorSource {
    @Override public long[] shape() { return array.getShape().getShape(); }

    @Override public MemorySegment bytes(Arena arena) {
        MemorySegment out = arena.allocate(byteSize(), 8);
        float[] values = array.toFloatArray();
        Floats.write(values, 0, values.length, out, dtype, 0);
        return out;
    }
}
