package io.headfuse.formats;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Opening untrusted input files safely. Only regular files are read (a FIFO would block forever, a link to
 * /dev/zero would never end, a folder fails with an OS message naming nothing), small files are read with a
 * size bound, and JSON is parsed strictly: one value, nothing after it, no duplicate keys.
 */
public final class InputFiles {
    /** config.json, params.json and an index are a few KB to a few hundred KB; anything this large is not one. */
    public static final long MAX_JSON_BYTES = 64L << 20;

    private static final ObjectReader STRICT = LlamaConfig.JSON.reader()
            .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private InputFiles() {}

    /** Refuses anything but an existing regular file (links are followed, so a link to a device is refused too). */
    public static void requireRegularFile(Path file) throws CheckpointException {
        if (Files.isRegularFile(file)) return;
        if (Files.isDirectory(file)) throw new CheckpointException(file, "is a folder, not a file");
        if (!Files.exists(file)) throw new CheckpointException(file, "no such file");
        throw new CheckpointException(file, "not a regular file (a device, pipe or socket): refusing to read it");
    }

    /** The whole file, refused when it is not a regular file or holds more than {@code max} bytes. */
    public static byte[] readBounded(Path file, long max) throws IOException {
        requireRegularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size > max) throw new CheckpointException(file, size + " bytes: larger than the " + max + " bytes such a file can have");
            // Read one byte past the size seen, so a file that grows while read is noticed instead of truncated.
            ByteBuffer buf = ByteBuffer.allocate((int) size + 1);
            while (buf.hasRemaining() && ch.read(buf) >= 0) { }
            if (buf.position() > size) throw new CheckpointException(file, "grew while it was read");
            byte[] out = new byte[buf.position()];
            buf.flip().get(out);
            return out;
        }
    }

    /** A JSON object file (config.json, params.json, an index), bounded and strictly parsed. */
    public static ObjectNode readJsonObject(Path file) throws IOException {
        return parseJsonObject(file, readBounded(file, MAX_JSON_BYTES), "");
    }

    /** Strictly parses {@code json}, which came from {@code file}; {@code what} prefixes the problem ("header " or ""). */
    public static ObjectNode parseJsonObject(Path file, byte[] json, String what) throws CheckpointException {
        JsonNode node;
        try {
            node = STRICT.readTree(json);
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, what + "not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new CheckpointException(file, what + "not valid JSON: " + e.getMessage());
        }
        if (!(node instanceof ObjectNode obj)) throw new CheckpointException(file, what + "is not a JSON object");
        return obj;
    }
}
