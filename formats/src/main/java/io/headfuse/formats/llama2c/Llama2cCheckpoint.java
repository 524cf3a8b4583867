package io.headfuse.formats.llama2c;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.DType;
import io.headfuse.formats.InputFiles;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.MappedTensor;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.meta.LlamaArch;
import io.headfuse.formats.meta.RopePermutedTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A llama2.c {@code .bin} checkpoint (karpathy/llama2.c run.c / export.py): a header, then fp32 weights stacked
 * per kind over all layers. Version 0 (legacy: 7 int32, negative vocab_size = separate classifier) and version 1
 * (magic "ak42", 256-byte header, shared-classifier flag) are read; version 2 (Q8_0) is refused.
 *
 * <p>Every tensor is a {@link MappedTensor} slice of the file; wq/wk are in Meta's interleaved RoPE layout (the
 * llama2.c model is Meta's) and come out as lazily permuted {@link RopePermutedTensor}s, like Meta checkpoints.
 */
public record Llama2cCheckpoint(Path source, int version, LlamaConfig config, List<TensorSource> tensors, List<Path> sideFiles)
        implements Checkpoint {
    private static final int MAGIC = 0x616b3432; // "ak42"
    private static final int V0_HEADER = 7 * 4, V1_HEADER = 256;

    public Llama2cCheckpoint {
        tensors = List.copyOf(tensors);
        sideFiles = List.copyOf(sideFiles);
    }

    @Override public String format() { return "llama2c"; }

    @Override public List<Path> files() { return List.of(source); }

    public static boolean isTokenizerFile(Path p) {
        String n = p.getFileName().toString();
        return n.startsWith("tok") && n.endsWith(".bin");
    }

    /** The header's numbers; {@code shared} when the classifier is the embedding. */
    record Header(int version, int headerBytes, int dim, int hidden, int layers, int heads, int kvHeads, int vocab, int seqLen, boolean shared) {
        int headSize() { return dim / heads; }
        long kvDim() { return (long) kvHeads * headSize(); }
    }

    /** The weight blocks, each stacked over layers where {@code perLayer}. */
    private enum Block { EMBED, RMS_ATT, WQ, WK, WV, WO, RMS_FFN, W1, W2, W3, RMS_FINAL, FREQ_REAL, FREQ_IMAG, WCLS }

    /** Elements of one block (all layers). */
    private static long numel(Block b, Header h) {
        // Exact products: a forged header of 2^31-1 layers of dim 2^31-1 must not wrap around to a plausible size.
        long d = h.dim(), L = h.layers(), hid = h.hidden();
        return switch (b) {
            case EMBED, WCLS -> Math.multiplyExact(h.vocab(), d);
            case RMS_ATT, RMS_FFN -> Math.multiplyExact(L, d);
            case WQ, WO -> Math.multiplyExact(Math.multiplyExact(L, d), d);
            case WK, WV -> Math.multiplyExact(Math.multiplyExact(L, h.kvDim()), d);
            case W1, W2, W3 -> Math.multiplyExact(Math.multiplyExact(L, hid), d);
            case RMS_FINAL -> d;
            case FREQ_REAL, FREQ_IMAG -> (long) h.seqLen() * h.headSize() / 2;
        };
    }

    /** The order export.py writes the blocks in; the classifier comes last, and only when not shared. */
    private static List<Block> order(Header h) {
        List<Block> order = new ArrayList<>(h.version() == 0
                ? List.of(Block.EMBED, Block.RMS_ATT, Block.WQ, Block.WK, Block.WV, Block.WO, Block.RMS_FFN, Block.W1, Block.W2, Block.W3,
                          Block.RMS_FINAL, Block.FREQ_REAL, Block.FREQ_IMAG)
                : List.of(Block.RMS_ATT, Block.RMS_FFN, Block.RMS_FINAL, Block.EMBED, Block.WQ, Block.WK, Block.WV, Block.WO, Block.W1, Block.W2, Block.W3));
        if (!h.shared()) order.add(Block.WCLS);
        return order;
    }

    public static Llama2cCheckpoint open(Path file) throws IOException {
        InputFiles.requireRegularFile(file);
        long size = Files.size(file);
        Header h = readHeader(file, size);

        Map<Block, Long> base = new EnumMap<>(Block.class);
        long end = h.headerBytes();
        try {
            for (Block b : order(h)) {
                base.put(b, end);
                end = Math.addExact(end, Math.multiplyExact(numel(b, h), 4L));
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, "header " + describe(h) + " implies more than 2^63 bytes: not a llama2.c checkpoint");
        }
        if (size < end) throw new CheckpointException(file, "truncated: expected " + end + " bytes, found " + size + " (header: " + describe(h) + ")");
        if (size > end) throw new CheckpointException(file, "size mismatch: expected " + end + " bytes, found " + size + " (header: " + describe(h) + "); not a llama2.c fp32 checkpoint?");

        long d = h.dim(), hid = h.hidden(), kv = h.kvDim();
        List<TensorSource> t = new ArrayList<>();
        t.add(slice(file, LlamaNames.EMBED, base.get(Block.EMBED), h.vocab(), d));
        for (int i = 0; i < h.layers(); i++) {
            t.add(slice(file, LlamaNames.inputNorm(i), layer(base, Block.RMS_ATT, i, d), d));
            t.add(new RopePermutedTensor(LlamaNames.q(i), slice(file, LlamaNames.q(i), layer(base, Block.WQ, i, d * d), d, d), h.heads()));
            t.add(new RopePermutedTensor(LlamaNames.k(i), slice(file, LlamaNames.k(i), layer(base, Block.WK, i, kv * d), kv, d), h.kvHeads()));
            t.add(slice(file, LlamaNames.v(i), layer(base, Block.WV, i, kv * d), kv, d));
            t.add(slice(file, LlamaNames.o(i), layer(base, Block.WO, i, d * d), d, d));
            t.add(slice(file, LlamaNames.postNorm(i), layer(base, Block.RMS_FFN, i, d), d));
            t.add(slice(file, LlamaNames.gate(i), layer(base, Block.W1, i, hid * d), hid, d));
            t.add(slice(file, LlamaNames.up(i), layer(base, Block.W3, i, hid * d), hid, d));
            t.add(slice(file, LlamaNames.down(i), layer(base, Block.W2, i, hid * d), d, hid));
        }
        t.add(slice(file, LlamaNames.NORM, base.get(Block.RMS_FINAL), d));
        if (!h.shared()) t.add(slice(file, LlamaNames.LM_HEAD, base.get(Block.WCLS), h.vocab(), d));

        LlamaArch arch = new LlamaArch(h.dim(), h.hidden(), h.heads(), h.kvHeads(), h.layers(), h.vocab(),
                1e-5, 10000.0, h.seqLen(), h.shared(), DType.F32); // llama2.c's model.py: norm_eps 1e-5, RoPE theta 10000
        LlamaConfig config;
        try {
            config = arch.toConfig();
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, "header " + describe(h) + ": " + e.getMessage());
        }
        return new Llama2cCheckpoint(file, h.version(), config, t, sideFiles(file));
    }

    static Header readHeader(Path file, long size) throws IOException {
        if (size < V0_HEADER) throw new CheckpointException(file, "truncated: expected at least " + V0_HEADER + " bytes (the header), found " + size);
        ByteBuffer b = ByteBuffer.allocate((int) Math.min(size, V1_HEADER)).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (b.hasRemaining()) if (ch.read(b) < 0) break;
        }
        b.flip();
        Header h;
        if (b.getInt(0) == MAGIC) {
            int version = b.getInt(4);
            if (version == 2) throw new CheckpointException(file, "llama2.c version 2 (Q8_0 quantized) checkpoints are not supported: export with --version 0 or 1");
            if (version != 1) throw new CheckpointException(file, "unknown llama2.c checkpoint version " + version + " (supported: 0 and 1)");
            if (size < V1_HEADER) throw new CheckpointException(file, "truncated: expected at least " + V1_HEADER + " bytes (the version 1 header), found " + size);
            h = new Header(1, V1_HEADER, b.getInt(8), b.getInt(12), b.getInt(16), b.getInt(20), b.getInt(24), b.getInt(28), b.getInt(32), b.get(36) != 0);
            if (h.vocab() <= 0) throw new CheckpointException(file, "header vocab_size " + h.vocab() + " must be positive");
        } else {
            int vocab = b.getInt(20);
            // Version 0 flags an unshared classifier by a negative vocab_size (run.c: shared_weights = vocab_size > 0).
            h = new Header(0, V0_HEADER, b.getInt(0), b.getInt(4), b.getInt(8), b.getInt(12), b.getInt(16),
                    vocab == Integer.MIN_VALUE ? 0 : Math.abs(vocab), b.getInt(24), vocab > 0);
        }
        check(file, h, h.dim() > 0 && h.hidden() > 0 && h.layers() > 0 && h.heads() > 0 && h.kvHeads() > 0 && h.vocab() > 0 && h.seqLen() > 0,
                "every value must be positive (is this a llama2.c .bin?)");
        check(file, h, h.dim() % h.heads() == 0, "dim is not a multiple of n_heads");
        check(file, h, h.heads() % h.kvHeads() == 0, "n_kv_heads does not divide n_heads");
        check(file, h, h.headSize() % 2 == 0, "head size dim/n_heads is odd: RoPE needs pairs");
        return h;
    }

    private static void check(Path file, Header h, boolean ok, String problem) throws CheckpointException {
        if (!ok) throw new CheckpointException(file, "bad llama2.c header " + describe(h) + ": " + problem);
    }

    private static String describe(Header h) {
        return "v" + h.version() + " dim=" + h.dim() + " hidden_dim=" + h.hidden() + " n_layers=" + h.layers() + " n_heads=" + h.heads()
                + " n_kv_heads=" + h.kvHeads() + " vocab_size=" + h.vocab() + (h.shared() ? " (shared classifier)" : " (separate classifier)")
                + " seq_len=" + h.seqLen();
    }

    private static long layer(Map<Block, Long> base, Block b, int layer, long perLayer) {
        return base.get(b) + layer * perLayer * 4L;
    }

    private static MappedTensor slice(Path file, String name, long offset, long... shape) {
        return new MappedTensor(name, DType.F32, shape, file, offset);
    }

    /** tok*.bin beside the model: llama2.c's tokenizer (tokenizer.bin, tok512.bin, ...). */
    private static List<Path> sideFiles(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile).filter(Llama2cCheckpoint::isTokenizerFile)
                    .filter(f -> !f.toAbsolutePath().equals(file.toAbsolutePath())).sorted().toList();
        }
    }
}
