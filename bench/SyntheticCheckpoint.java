import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaShapes;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Writes a synthetic bf16 HF Llama checkpoint of any size (default: Llama-2-7B's shapes, ~13.5 GB in 5 GB
 * shards) for the conversion benchmark. Values are random bf16 numbers of a realistic scale, repeated from a
 * 1 MiB block so generation is disk-bound.
 *
 * usage: java -cp <formats classpath> bench/SyntheticCheckpoint.java OUT [layers hidden heads intermediate vocab shardBytes]
 */
public class SyntheticCheckpoint {
    public static void main(String[] a) throws IOException {
        Path out = Path.of(a[0]);
        int layers = a.length > 1 ? Integer.parseInt(a[1]) : 32, hidden = a.length > 2 ? Integer.parseInt(a[2]) : 4096;
        int heads = a.length > 3 ? Integer.parseInt(a[3]) : 32, inter = a.length > 4 ? Integer.parseInt(a[4]) : 11008;
        int vocab = a.length > 5 ? Integer.parseInt(a[5]) : 32000;
        long shard = a.length > 6 ? Long.parseLong(a[6]) : SafetensorsWriter.DEFAULT_SHARD_SIZE;
        var json = LlamaConfig.JSON.createObjectNode();
        json.putArray("architectures").add("LlamaForCausalLM");
        json.put("model_type", "llama").put("hidden_size", hidden).put("num_attention_heads", heads).put("num_key_value_heads", heads)
                .put("num_hidden_layers", layers).put("intermediate_size", inter).put("vocab_size", vocab).put("rms_norm_eps", 1e-5)
                .put("rope_theta", 10000.0).put("max_position_embeddings", 4096).put("tie_word_embeddings", false)
                .put("torch_dtype", "bfloat16").put("hidden_act", "silu");
        LlamaConfig config = LlamaConfig.fromJson(json);
        byte[] block = new byte[1 << 20];
        Random rnd = new Random(42);
        for (int i = 0; i < block.length; i += 2) {
            short bf = io.headfuse.formats.Floats.floatToBf16((float) (rnd.nextGaussian() * 0.02));
            block[i] = (byte) bf;
            block[i + 1] = (byte) (bf >> 8);
        }
        List<TensorSource> tensors = new ArrayList<>();
        LlamaShapes.expected(config).forEach((name, shape) -> tensors.add(new Filler(name, shape, block)));
        Files.createDirectories(out);
        long t0 = System.nanoTime();
        SafetensorsWriter.write(out, tensors, shard, null);
        Files.writeString(out.resolve("config.json"), config.toJsonString());
        long bytes = tensors.stream().mapToLong(TensorSource::byteSize).sum();
        System.out.printf("wrote %s: %d tensors, %.2f GB in %.1f s%n", out, tensors.size(), bytes / 1e9, (System.nanoTime() - t0) / 1e9);
    }

    record Filler(String name, long[] shape, byte[] block) implements TensorSource {
        @Override public DType dtype() { return DType.BF16; }

        @Override public MemorySegment bytes(Arena arena) {
            MemorySegment seg = arena.allocate(byteSize());
            for (long p = 0; p < seg.byteSize(); p += block.length)
                MemorySegment.copy(MemorySegment.ofArray(block), 0, seg, p, Math.min(block.length, seg.byteSize() - p));
            return seg;
        }

        @Override public void copyTo(WritableByteChannel out) throws IOException {
            for (long p = 0; p < byteSize(); p += block.length) {
                ByteBuffer b = ByteBuffer.wrap(block, 0, (int) Math.min(block.length, byteSize() - p));
                while (b.hasRemaining()) out.write(b);
            }
        }
    }
}
