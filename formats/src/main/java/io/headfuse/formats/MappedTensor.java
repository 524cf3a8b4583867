package io.headfuse.formats;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;

/**
 * A tensor stored as one contiguous little-endian region of a file (safetensors data, an uncompressed zip
 * entry of a .pth, a llama2.c weight). Each {@link #bytes} call maps only this region into the caller's arena.
 *
 * <p>{@code crc}, when not null, is a CRC-32 over a region of the file that holds this tensor's bytes (a zip
 * entry's: the tensor's own bytes when it is its whole storage, the whole storage when it views part of one): it is
 * checked every time the bytes are read, so a corrupt archive fails when it is used instead of silently giving wrong
 * weights, while opening the checkpoint still reads nothing.
 */
public record MappedTensor(String name, DType dtype, long[] shape, Path file, long offset, Crc crc) implements TensorSource {
    private static final long CRC_CHUNK = 1L << 30; // ByteBuffers are int-indexed

    /** The CRC-32 {@code value} that the file's bytes [offset, offset + length) must have. */
    public record Crc(long offset, long length, int value) {}

    public MappedTensor {
        shape = shape.clone();
        if (crc != null && (offset < crc.offset() || offset - crc.offset() > crc.length() - byteSize(dtype, shape)))
            throw new IllegalArgumentException("tensor " + name + ": its bytes lie outside the region its CRC covers");
    }

    private static long byteSize(DType dtype, long[] shape) {
        long n = dtype.size();
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public MappedTensor(String name, DType dtype, long[] shape, Path file, long offset) { this(name, dtype, shape, file, offset, null); }

    @Override public long[] shape() { return shape.clone(); }

    /** The same region under another name (a loader renaming to HF names). */
    public MappedTensor withName(String newName) { return new MappedTensor(newName, dtype, shape, file, offset, crc); }

    @Override
    public MemorySegment bytes(Arena arena) throws IOException {
        try (FileChannel ch = open()) {
            if (crc == null) return ch.map(FileChannel.MapMode.READ_ONLY, offset, byteSize(), arena);
            // The whole checked region is read (for a view of part of a storage, more than the tensor), then sliced.
            MemorySegment region = ch.map(FileChannel.MapMode.READ_ONLY, crc.offset(), crc.length(), arena);
            checkCrc(region);
            return region.asSlice(offset - crc.offset(), byteSize());
        }
    }

    @Override
    public void copyTo(WritableByteChannel out) throws IOException {
        if (crc != null) { // the bytes are checked before any of them is written
            TensorSource.super.copyTo(out);
            return;
        }
        try (FileChannel ch = open()) {
            Channels2.transferFully(ch, offset, byteSize(), out);
        }
    }

    private void checkCrc(MemorySegment seg) throws CheckpointException {
        if (crc == null) return;
        CRC32 c = new CRC32();
        for (long pos = 0; pos < seg.byteSize(); pos += CRC_CHUNK) c.update(seg.asSlice(pos, Math.min(CRC_CHUNK, seg.byteSize() - pos)).asByteBuffer());
        if ((int) c.getValue() != crc.value())
            throw new CheckpointException(file, "tensor " + name + ": its bytes fail the CRC-32 check of their zip entry (stored "
                    + Integer.toHexString(crc.value()) + ", computed " + Long.toHexString(c.getValue()) + "): the file is corrupt");
    }

    /**
     * The file, checked to still hold this tensor's bytes: mapping past the end of a read-only file fails with
     * "Channel not open for writing", which names neither the file nor the tensor.
     */
    private FileChannel open() throws IOException {
        InputFiles.requireRegularFile(file);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        long size = ch.size(), n = byteSize();
        // The CRC's region holds the tensor's bytes (checked at construction): where there is one, it is what is read.
        long start = crc == null ? offset : crc.offset(), length = crc == null ? n : crc.length();
        if (start < 0 || start > size || length > size - start) {
            ch.close();
            throw new CheckpointException(file, "tensor " + name + ": bytes [" + offset + ", " + (offset + n) + ") lie beyond the end of the file ("
                    + size + " bytes): truncated or changed since it was opened?");
        }
        return ch;
    }
}
