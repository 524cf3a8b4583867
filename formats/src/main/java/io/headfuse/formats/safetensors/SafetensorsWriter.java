package io.headfuse.formats.safetensors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.Channels2;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Writes tensors as HF-style sharded safetensors into a folder: {@code model-0000i-of-0000n.safetensors} plus
 * {@code model.safetensors.index.json} (with {@code metadata.total_size}), {@code __metadata__ {"format":"pt"}}
 * in every shard. Output is a pure function of the tensor list and the shard size: tensors keep the given order,
 * shards are filled greedily, and the header is padded with spaces to 8 bytes, so the same input gives
 * byte-identical files. Each tensor is streamed: pass-through tensors go file to file through the kernel.
 */
public final class SafetensorsWriter {
    public static final long DEFAULT_SHARD_SIZE = 5_000_000_000L;

    private SafetensorsWriter() {}

    /** Shards planned for a tensor list: which tensors go in which file. */
    public static List<List<TensorSource>> plan(List<TensorSource> tensors, long shardSize) {
        List<List<TensorSource>> shards = new ArrayList<>();
        List<TensorSource> cur = new ArrayList<>();
        long size = 0;
        for (TensorSource t : tensors) {
            if (!cur.isEmpty() && size + t.byteSize() > shardSize) {
                shards.add(cur);
                cur = new ArrayList<>();
                size = 0;
            }
            cur.add(t);
            size += t.byteSize();
        }
        if (!cur.isEmpty()) shards.add(cur);
        return shards;
    }

    public static String shardName(int i, int n) { return String.format("model-%05d-of-%05d.safetensors", i + 1, n); }

    /**
     * Writes the shards and the index into {@code dir} (which must exist). {@code progress} receives the
     * number of tensor bytes written after each tensor.
     */
    public static void write(Path dir, List<TensorSource> tensors, long shardSize, LongConsumer progress) throws IOException {
        if (shardSize <= 0) throw new IllegalArgumentException("shard size must be positive");
        List<List<TensorSource>> shards = plan(tensors, shardSize);
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        // Shard i is synced in the background while shard i+1 is written (see ShardSyncer); all are on disk
        // before the index is written.
        try (ShardSyncer syncer = new ShardSyncer()) {
            for (int i = 0; i < shards.size(); i++) {
                String name = shardName(i, shards.size());
                total += writeData(dir.resolve(name), shards.get(i), progress);
                syncer.submit(dir.resolve(name));
                for (TensorSource t : shards.get(i)) weightMap.put(t.name(), name);
            }
            syncer.awaitAll();
        }
        ObjectNode index = LlamaConfig.JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode wm = index.putObject("weight_map");
        weightMap.forEach(wm::put);
        Files.writeString(dir.resolve(HfCheckpoint.INDEX), LlamaConfig.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n");
    }

    /** Writes one safetensors file and syncs it to disk; returns the bytes of tensor data written. */
    public static long writeFile(Path file, List<TensorSource> tensors, LongConsumer progress) throws IOException {
        long n = writeData(file, tensors, progress);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        return n;
    }

    /** Writes one safetensors file, leaving the sync to the caller; returns the bytes of tensor data written. */
    private static long writeData(Path file, List<TensorSource> tensors, LongConsumer progress) throws IOException {
        byte[] header = header(tensors);
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            Channels2.writeFully(out, len);
            Channels2.writeFully(out, ByteBuffer.wrap(header));
            long written = 0;
            try (Prefetcher ahead = new Prefetcher(tensors)) {
                for (int i = 0; i < tensors.size(); i++) {
                    TensorSource t = ahead.get(i);
                    long before = out.position();
                    t.copyTo(out);
                    if (out.position() - before != t.byteSize())
                        throw new IOException("tensor " + t.name() + " produced " + (out.position() - before) + " bytes, expected " + t.byteSize());
                    written += t.byteSize();
                    if (progress != null) progress.accept(t.byteSize());
                }
            }
            return written;
        }
    }

    /** The JSON header, {@code __metadata__} first, padded with spaces to a multiple of 8 bytes. */
    static byte[] header(List<TensorSource> tensors) throws IOException {
        ObjectNode root = LlamaConfig.JSON.createObjectNode();
        root.putObject("__metadata__").put("format", "pt");
        long offset = 0;
        for (TensorSource t : tensors) {
            ObjectNode e = root.putObject(t.name());
            e.put("dtype", t.dtype().name());
            ArrayNode shape = e.putArray("shape");
            for (long d : t.shape()) shape.add(d);
            ArrayNode off = e.putArray("data_offsets");
            off.add(offset);
            offset += t.byteSize();
            off.add(offset);
        }
        byte[] json = LlamaConfig.JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = new byte[padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }
}
