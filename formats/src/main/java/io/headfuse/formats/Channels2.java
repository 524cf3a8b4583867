package io.headfuse.formats;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;

/** Small I/O helpers the JDK leaves out: full writes of segments and bounded channel-to-channel copies. */
public final class Channels2 {
    private static final long CHUNK = 1L << 26; // ByteBuffers are int-indexed; write large segments in pieces

    private Channels2() {}

    public static void writeFully(WritableByteChannel out, MemorySegment seg) throws IOException {
        for (long pos = 0; pos < seg.byteSize(); pos += CHUNK) {
            ByteBuffer buf = seg.asSlice(pos, Math.min(CHUNK, seg.byteSize() - pos)).asByteBuffer();
            while (buf.hasRemaining()) out.write(buf);
        }
    }

    public static void writeFully(WritableByteChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) out.write(buf);
    }

    /** Copies {@code length} bytes at {@code position} of {@code in} to {@code out} (sendfile/copy_file_range where the OS has it). */
    public static void transferFully(FileChannel in, long position, long length, WritableByteChannel out) throws IOException {
        long done = 0;
        while (done < length) {
            long n = in.transferTo(position + done, length - done, out);
            if (n <= 0) throw new IOException("unexpected end of data: " + (length - done) + " bytes missing");
            done += n;
        }
    }
}
