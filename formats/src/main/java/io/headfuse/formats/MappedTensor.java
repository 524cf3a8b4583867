package io.headfuse.formats;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A tensor stored as one contiguous little-endian region of a file (safetensors data, an uncompressed zip
 * entry of a .pth, a llama2.c weight). Each {@link #bytes} call maps only this region into the caller's arena.
 */
public record MappedTensor(String name, DType dtype, long[] shape, Path file, long offset) implements TensorSource {
    public MappedTensor { shape = shape.clone(); }

    @Override public long[] shape() { return shape.clone(); }

    @Override
    public MemorySegment bytes(Arena arena) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, offset, byteSize(), arena);
        }
    }

    @Override
    public void copyTo(WritableByteChannel out) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Channels2.transferFully(ch, offset, byteSize(), out);
        }
    }
}
