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
        try (FileChannel ch = open()) {
            return ch.map(FileChannel.MapMode.READ_ONLY, offset, byteSize(), arena);
        }
    }

    @Override
    public void copyTo(WritableByteChannel out) throws IOException {
        try (FileChannel ch = open()) {
            Channels2.transferFully(ch, offset, byteSize(), out);
        }
    }

    /**
     * The file, checked to still hold this tensor's bytes: mapping past the end of a read-only file fails with
     * "Channel not open for writing", which names neither the file nor the tensor.
     */
    private FileChannel open() throws IOException {
        InputFiles.requireRegularFile(file);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        long size = ch.size(), n = byteSize();
        if (offset < 0 || offset > size || n > size - offset) {
            ch.close();
            throw new CheckpointException(file, "tensor " + name + ": bytes [" + offset + ", " + (offset + n) + ") lie beyond the end of the file ("
                    + size + " bytes): truncated or changed since it was opened?");
        }
        return ch;
    }
}
