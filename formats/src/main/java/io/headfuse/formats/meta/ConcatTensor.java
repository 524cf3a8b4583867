package io.headfuse.formats.meta;

import io.headfuse.formats.DType;
import io.headfuse.formats.Floats;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A 2-D tensor that model parallelism split over shards, joined again along {@code dim} (0: rows, as for
 * column-parallel wq/w1; 1: columns, as for row-parallel wo/w2) when its bytes are asked for.
 */
record ConcatTensor(String name, List<TensorSource> parts, int dim) implements TensorSource {
    ConcatTensor {
        parts = List.copyOf(parts);
        if (parts.isEmpty() || (dim != 0 && dim != 1)) throw new IllegalArgumentException(name + ": nothing to join along dim " + dim);
        long[] first = parts.get(0).shape();
        if (first.length != 2) throw new IllegalArgumentException(name + ": shards are " + first.length + "-D; only 2-D tensors are split");
        for (TensorSource p : parts) {
            long[] s = p.shape();
            if (s.length != 2 || s[1 - dim] != first[1 - dim] || p.dtype() != parts.get(0).dtype())
                throw new IllegalArgumentException(name + ": shard shapes/dtypes " + TensorSource.describe(first) + " " + parts.get(0).dtype()
                        + " and " + TensorSource.describe(s) + " " + p.dtype() + " cannot be joined along dim " + dim);
        }
    }

    @Override public DType dtype() { return parts.get(0).dtype(); }

    @Override public long[] shape() {
        long[] s = parts.get(0).shape();
        s[dim] = 0;
        for (TensorSource p : parts) s[dim] += p.shape()[dim];
        return s;
    }

    @Override
    public MemorySegment bytes(Arena arena) throws IOException {
        MemorySegment dst = arena.allocate(byteSize(), 8);
        copyRows(0, shape()[0], dst, arena);
        return dst;
    }

    /** Only the rows asked for are assembled (the tied-embedding check reads one row of each side). */
    @Override
    public float[] rows(long from, int count) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            long rowBytes = shape()[1] * dtype().size();
            MemorySegment dst = arena.allocate(count * rowBytes, 8);
            copyRows(from, count, dst, arena);
            return Floats.read(dst, dtype(), 0, Math.toIntExact(count * shape()[1]));
        }
    }

    private void copyRows(long from, long count, MemorySegment dst, Arena arena) throws IOException {
        int size = dtype().size();
        if (dim == 0) {
            long rowBytes = shape()[1] * size, start = 0, out = 0;
            for (TensorSource p : parts) {
                long rows = p.shape()[0];
                long lo = Math.max(from, start), hi = Math.min(from + count, start + rows);
                if (lo < hi) {
                    MemorySegment.copy(p.bytes(arena), (lo - start) * rowBytes, dst, out, (hi - lo) * rowBytes);
                    out += (hi - lo) * rowBytes;
                }
                start += rows;
            }
        } else {
            long rowBytes = shape()[1] * size, col = 0;
            for (TensorSource p : parts) {
                long partRow = p.shape()[1] * size;
                MemorySegment src = p.bytes(arena);
                for (long r = 0; r < count; r++) MemorySegment.copy(src, (from + r) * partRow, dst, r * rowBytes + col, partRow);
                col += partRow;
            }
        }
    }
}
