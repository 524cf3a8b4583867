package io.headfuse.formats.meta;

import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A q or k projection moved from Meta's RoPE layout to HF's, computed when its bytes are asked for.
 *
 * <p>Meta (and llama2.c) rotate adjacent pairs of each head's dimensions (2i, 2i+1); HF's rotate-half pairs
 * dimension i with i + head_dim/2. transformers' convert_llama_weights_to_hf.py therefore reorders each head's
 * output rows: {@code w.view(heads, head_dim/2, 2, in).transpose(1, 2).reshape(out, in)}, i.e. HF row
 * {@code h*hd + j*hd/2 + i} is Meta row {@code h*hd + 2i + j}. Whole rows move, so the dtype is kept and the
 * result is bit-exact.
 */
public record RopePermutedTensor(String name, TensorSource source, int heads) implements TensorSource {
    public RopePermutedTensor {
        long[] s = source.shape();
        if (s.length != 2 || heads <= 0 || s[0] % (2L * heads) != 0)
            throw new IllegalArgumentException(name + ": shape " + TensorSource.describe(s) + " cannot be split into " + heads + " heads of even size");
    }

    @Override public io.headfuse.formats.DType dtype() { return source.dtype(); }

    @Override public long[] shape() { return source.shape(); }

    @Override
    public MemorySegment bytes(Arena arena) throws IOException {
        MemorySegment src = source.bytes(arena);
        MemorySegment dst = arena.allocate(byteSize(), 8);
        long[] s = shape();
        metaToHf(src, dst, s[0], s[1] * dtype().size(), heads);
        return dst;
    }

    /** Reorders the {@code rows} rows of {@code rowBytes} bytes each from Meta's pair layout to HF's rotate-half layout. */
    static void metaToHf(MemorySegment src, MemorySegment dst, long rows, long rowBytes, int heads) {
        long headDim = rows / heads, half = headDim / 2;
        for (long h = 0; h < heads; h++)
            for (long j = 0; j < 2; j++)
                for (long i = 0; i < half; i++)
                    MemorySegment.copy(src, (h * headDim + 2 * i + j) * rowBytes, dst, (h * headDim + j * half + i) * rowBytes, rowBytes);
    }
}
