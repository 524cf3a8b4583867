package io.headfuse.formats.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.DType;
import io.headfuse.formats.InputFiles;
import io.headfuse.formats.MappedTensor;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One {@code .safetensors} file: an 8-byte little-endian header length, a JSON header, then the data section.
 * The header is untrusted input, so everything in it is checked before any tensor is handed out: its length is
 * bounded and inside the file, the JSON is well formed, every dtype is known, each tensor's byte length equals
 * product(shape) x dtype size, and its offsets lie inside the data section without overlapping another's.
 * Tensors are {@link MappedTensor}s: nothing is read until asked for, and then only that tensor is mapped.
 */
public final class SafetensorsFile {
    /** Larger headers are refused (the safetensors library uses the same bound). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private final Path file;
    private final long dataStart;
    private final List<TensorSource> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path file, long dataStart, List<TensorSource> tensors, Map<String, String> metadata) {
        this.file = file;
        this.dataStart = dataStart;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    public Path file() { return file; }

    /** File offset where the data section begins. */
    public long dataStart() { return dataStart; }

    /** Tensors in the order of their data offsets. */
    public List<TensorSource> tensors() { return tensors; }

    /** The {@code __metadata__} strings (empty when absent). */
    public Map<String, String> metadata() { return metadata; }

    public static SafetensorsFile open(Path file) throws IOException {
        InputFiles.requireRegularFile(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new CheckpointException(file, "truncated: " + size + " bytes, shorter than the 8-byte header length");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES)
                throw new CheckpointException(file, "header length " + Long.toUnsignedString(headerLen) + " is out of bounds (2 to " + MAX_HEADER_BYTES + " bytes)");
            if (8 + headerLen > size)
                throw new CheckpointException(file, "header length " + headerLen + " runs beyond the end of the file (" + size + " bytes)");
            ByteBuffer header = ByteBuffer.allocate((int) headerLen);
            readFully(ch, header, 8, file);
            long dataStart = 8 + headerLen;
            return parse(file, header.array(), dataStart, size - dataStart);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) throw new CheckpointException(file, "truncated while reading the header");
            pos += n;
        }
    }

    private record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

    private static SafetensorsFile parse(Path file, byte[] header, long dataStart, long dataSize) throws IOException {
        // As the safetensors library: the header starts with '{' and may only be padded after the JSON with
        // spaces, so a length that is off by one leaves either broken JSON or a data byte after it.
        if (header[0] != '{') throw new CheckpointException(file, "header does not start with '{' (header length " + header.length + " wrong?)");
        ObjectNode obj = InputFiles.parseJsonObject(file, header, "header ");
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = obj.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (f.getKey().equals("__metadata__")) {
                if (!f.getValue().isObject()) throw new CheckpointException(file, "__metadata__ is not a JSON object");
                for (var m : f.getValue().properties()) { // safetensors: a map of strings to strings
                    if (!m.getValue().isTextual()) throw new CheckpointException(file, "__metadata__ value of '" + m.getKey() + "' is not a string");
                    metadata.put(m.getKey(), m.getValue().asText());
                }
                continue;
            }
            entries.add(entry(file, f.getKey(), f.getValue(), dataSize));
        }
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        // The safetensors library's own rule: sorted by offset, each tensor starts exactly where the one before
        // it ends (the first at 0), and the last ends at the end of the file. No gap, no overlap, no tail, so
        // a header length that is off, or a lying offset, cannot shift or hide bytes.
        long prevEnd = 0;
        Entry prev = null;
        List<TensorSource> tensors = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            if (e.begin != prevEnd)
                throw new CheckpointException(file, "tensor " + e.name + ": data_offsets [" + e.begin + ", " + e.end + "] "
                        + (e.begin < prevEnd ? "overlap" : "leave a gap after") + (prev == null ? " the start of the data section" : " tensor " + prev.name + " [" + prev.begin + ", " + prev.end + "]"));
            prevEnd = e.end;
            prev = e;
            tensors.add(new MappedTensor(e.name, e.dtype, e.shape, file, dataStart + e.begin));
        }
        if (prevEnd != dataSize)
            throw new CheckpointException(file, "the tensors cover " + prevEnd + " bytes of a " + dataSize + "-byte data section: "
                    + (prevEnd < dataSize ? "trailing bytes after the last tensor" : "truncated"));
        return new SafetensorsFile(file, dataStart, List.copyOf(tensors), Map.copyOf(metadata));
    }

    /** An integer that fits a long exactly: larger ones (up to 2^64 in the format) cannot lie inside any file. */
    private static boolean exactLong(JsonNode n) { return n.isIntegralNumber() && n.canConvertToLong(); }

    private static Entry entry(Path file, String name, JsonNode node, long dataSize) throws CheckpointException {
        String where = "tensor " + name + ": ";
        if (!node.isObject()) throw new CheckpointException(file, where + "header entry is not a JSON object");
        DType dtype = node.path("dtype").isTextual() ? DType.ofSafetensors(node.get("dtype").asText()) : null;
        if (dtype == null) throw new CheckpointException(file, where + "unknown dtype " + node.get("dtype"));
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) throw new CheckpointException(file, where + "shape is missing or not an array");
        long[] shape = new long[shapeNode.size()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) throw new CheckpointException(file, where + "shape " + shapeNode + " has a bad dimension " + d);
            shape[i] = d.asLong();
            try {
                numel = Math.multiplyExact(numel, shape[i]);
            } catch (ArithmeticException ex) {
                throw new CheckpointException(file, where + "shape " + shapeNode + " overflows");
            }
        }
        JsonNode off = node.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !exactLong(off.get(0)) || !exactLong(off.get(1)))
            throw new CheckpointException(file, where + "data_offsets must be two integers, got " + off);
        long begin = off.get(0).asLong(), end = off.get(1).asLong();
        if (begin < 0 || end < begin)
            throw new CheckpointException(file, where + "data_offsets [" + begin + ", " + end + "] are not an increasing pair");
        long expected;
        try {
            expected = Math.multiplyExact(numel, dtype.size());
        } catch (ArithmeticException ex) {
            throw new CheckpointException(file, where + "byte length overflows");
        }
        if (end - begin != expected)
            throw new CheckpointException(file, where + "byte length " + (end - begin) + " does not match shape " + shapeNode + " x " + dtype + " (" + expected + " bytes)");
        if (end > dataSize)
            throw new CheckpointException(file, where + "data_offsets [" + begin + ", " + end + "] run beyond the data section (" + dataSize + " bytes): file truncated?");
        return new Entry(name, dtype, shape, begin, end);
    }
}
