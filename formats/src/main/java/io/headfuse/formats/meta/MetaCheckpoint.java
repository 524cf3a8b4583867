package io.headfuse.formats.meta;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.MappedTensor;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.llama2c.Llama2cCheckpoint;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Meta Llama checkpoint folder: {@code params.json} plus {@code consolidated.NN.pth}, one per model-parallel
 * rank. Tensors come out under HF names in HF layout: renamed, shards joined the way Meta's parallel layers
 * split them, and wq/wk moved from Meta's interleaved RoPE pairs to HF's rotate-half ({@link RopePermutedTensor}).
 * With one shard every other tensor is a {@link MappedTensor} over the .pth, so nothing is copied.
 *
 * <p>An {@code output.weight} bit-identical to the embedding (Llama 3.2 1B/3B, llama2.c exports) is reported as
 * tied embeddings, with no lm_head, as the HF release of those models has it.
 */
public record MetaCheckpoint(Path source, LlamaConfig config, List<TensorSource> tensors, List<Path> files, List<Path> sideFiles)
        implements Checkpoint {
    private static final Logger LOG = LoggerFactory.getLogger(MetaCheckpoint.class);
    private static final Pattern SHARD = Pattern.compile("consolidated\\.(\\d+)\\.pth");
    private static final Pattern LAYER = Pattern.compile("layers\\.(\\d+)\\.(.+)");
    /** Numbers as Meta writes them: no leading zeros in layer numbers, two-digit ranks; at most 9 digits either way. */
    private static final Pattern CANONICAL_LAYER = Pattern.compile("0|[1-9][0-9]{0,8}"), CANONICAL_RANK = Pattern.compile("[0-9]{2}|[1-9][0-9]{2,8}");
    private static final Set<String> TOKENIZER_FILES = Set.of("tokenizer.model", "tokenizer.json", "tokenizer_config.json");

    public MetaCheckpoint {
        tensors = List.copyOf(tensors);
        files = List.copyOf(files);
        sideFiles = List.copyOf(sideFiles);
    }

    @Override public String format() { return "meta-pth"; }

    /** How model parallelism splits a weight over shards, and so how shards are joined. */
    private enum Split { ROWS, COLUMNS, REPLICATED, EMBEDDING }

    /** A Meta weight name's HF name and split. */
    private record Mapping(String hfName, Split split) {}

    /** Opens a Meta folder (or its params.json / one of its .pth files). */
    public static MetaCheckpoint open(Path path) throws IOException {
        Path dir = Files.isRegularFile(path) ? path.toAbsolutePath().getParent() : path;
        Path paramsFile = dir.resolve("params.json");
        if (!Files.isRegularFile(paramsFile)) throw new CheckpointException(dir, "no params.json: not a Meta checkpoint folder");
        MetaParams p = MetaParams.read(paramsFile);
        List<Path> shardFiles = shardFiles(dir);
        List<TorchArchive> shards = new ArrayList<>();
        for (Path f : shardFiles) shards.add(TorchArchive.read(f));
        // Errors about the joined tensors name the file when there is one, the folder when shards were merged.
        Path where = shardFiles.size() == 1 ? shardFiles.get(0) : dir;

        Map<String, TensorSource> byName = new LinkedHashMap<>();
        for (String metaName : shards.get(0).tensors().keySet()) {
            Mapping m = mapping(metaName, shards.get(0).file());
            if (m == null) continue; // rope.freqs: recomputed by every runtime
            List<TensorSource> parts = new ArrayList<>();
            for (TorchArchive s : shards) {
                MappedTensor t = s.tensors().get(metaName);
                if (t == null) throw new CheckpointException(s.file(), "tensor " + metaName + " is missing from this shard (present in " + shardFiles.get(0).getFileName() + ")");
                if (!t.dtype().isFloat()) throw new CheckpointException(s.file(), "tensor " + metaName + " is " + t.dtype() + ": expected a floating-point weight");
                parts.add(t);
            }
            byName.put(m.hfName(), join(m, parts, p, where));
        }
        for (TorchArchive s : shards.subList(1, shards.size()))
            for (String name : s.tensors().keySet())
                if (!shards.get(0).tensors().containsKey(name))
                    throw new CheckpointException(s.file(), "tensor " + name + " is not in " + shardFiles.get(0).getFileName() + ": shards disagree");

        int vocab = checkShapes(byName, p, where);
        int intermediate = (int) byName.get(LlamaNames.gate(0)).shape()[0];
        int formula = p.formulaIntermediate();
        if (formula > 0 && formula != intermediate)
            LOG.warn("{}: w1 has {} rows but params.json's multiple_of/ffn_dim_multiplier give {}; using the weights' {}", where, intermediate, formula, intermediate);

        boolean tied = !byName.containsKey(LlamaNames.LM_HEAD) || sameBytes(byName.get(LlamaNames.EMBED), byName.get(LlamaNames.LM_HEAD));
        if (tied) byName.remove(LlamaNames.LM_HEAD);

        for (int i = 0; i < p.nLayers(); i++) { // the RoPE move, on the joined tensors (as transformers' converter does)
            byName.put(LlamaNames.q(i), new RopePermutedTensor(LlamaNames.q(i), byName.get(LlamaNames.q(i)), p.nHeads()));
            byName.put(LlamaNames.k(i), new RopePermutedTensor(LlamaNames.k(i), byName.get(LlamaNames.k(i)), p.nKvHeads()));
        }
        List<TensorSource> tensors = List.copyOf(byName.values());
        LlamaArch arch = new LlamaArch(p.dim(), intermediate, p.nHeads(), p.nKvHeads(), p.nLayers(), vocab, p.normEps(), p.ropeTheta(),
                p.maxSeqLen() != null ? p.maxSeqLen() : 2048, tied, majorityDtype(tensors));
        LlamaConfig config;
        try {
            config = arch.toConfig();
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(paramsFile, e.getMessage());
        }
        return new MetaCheckpoint(dir, config, tensors, shardFiles, sideFiles(dir));
    }

    /** consolidated.00.pth ... consolidated.NN.pth, numbered without gaps. */
    private static List<Path> shardFiles(Path dir) throws IOException {
        Map<Integer, Path> byRank = new java.util.TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Matcher m = SHARD.matcher(f.getFileName().toString());
                if (!m.matches()) continue;
                // "consolidated.000.pth" would be a second rank 0, and 99999999999 no int at all: refuse both.
                if (!CANONICAL_RANK.matcher(m.group(1)).matches())
                    throw new CheckpointException(f, "shard number '" + m.group(1) + "' is not how Meta numbers ranks (00, 01, ...)");
                byRank.put(Integer.parseInt(m.group(1)), f);
            }
        }
        if (byRank.isEmpty()) throw new CheckpointException(dir, "no consolidated.NN.pth beside params.json");
        List<Integer> ranks = List.copyOf(byRank.keySet());
        for (int i = 0; i < ranks.size(); i++)
            if (ranks.get(i) != i) throw new CheckpointException(dir, "model-parallel shards are numbered " + ranks + ": expected 0 to " + (ranks.size() - 1) + " without gaps");
        return List.copyOf(byRank.values());
    }

    /** The HF name and split of a Meta weight; null for tensors to drop; an error for anything unknown. */
    private static Mapping mapping(String meta, Path file) throws CheckpointException {
        switch (meta) {
            case "tok_embeddings.weight": return new Mapping(LlamaNames.EMBED, Split.EMBEDDING);
            case "norm.weight": return new Mapping(LlamaNames.NORM, Split.REPLICATED);
            case "output.weight": return new Mapping(LlamaNames.LM_HEAD, Split.ROWS);
            case "rope.freqs": return null;
            default: break;
        }
        Matcher m = LAYER.matcher(meta);
        if (m.matches()) {
            // "layers.00" would silently replace layer 0's weight, and 99999999999 is no int: refuse both.
            if (!CANONICAL_LAYER.matcher(m.group(1)).matches())
                throw new CheckpointException(file, "tensor " + meta + ": layer number '" + m.group(1) + "' is not a plain decimal");
            int i = Integer.parseInt(m.group(1));
            Mapping mapped = switch (m.group(2)) {
                case "attention.wq.weight" -> new Mapping(LlamaNames.q(i), Split.ROWS);
                case "attention.wk.weight" -> new Mapping(LlamaNames.k(i), Split.ROWS);
                case "attention.wv.weight" -> new Mapping(LlamaNames.v(i), Split.ROWS);
                case "attention.wo.weight" -> new Mapping(LlamaNames.o(i), Split.COLUMNS);
                case "feed_forward.w1.weight" -> new Mapping(LlamaNames.gate(i), Split.ROWS);
                case "feed_forward.w2.weight" -> new Mapping(LlamaNames.down(i), Split.COLUMNS);
                case "feed_forward.w3.weight" -> new Mapping(LlamaNames.up(i), Split.ROWS);
                case "attention_norm.weight" -> new Mapping(LlamaNames.inputNorm(i), Split.REPLICATED);
                case "ffn_norm.weight" -> new Mapping(LlamaNames.postNorm(i), Split.REPLICATED);
                default -> null;
            };
            if (mapped != null) return mapped;
        }
        throw new CheckpointException(file, "tensor " + meta + " is not a Llama weight headfuse knows (expected tok_embeddings, layers.N.attention.wq/wk/wv/wo, "
                + "layers.N.feed_forward.w1/w2/w3, layers.N.attention_norm/ffn_norm, norm, output)");
    }

    /** One shard as is (renamed, still mapped); several joined the way Meta's parallel layers split them. */
    private static TensorSource join(Mapping m, List<TensorSource> parts, MetaParams p, Path where) throws CheckpointException {
        TensorSource first = parts.get(0);
        if (parts.size() == 1 || m.split() == Split.REPLICATED) {
            MappedTensor t = (MappedTensor) first; // norms are replicated on every rank: rank 0's is the norm
            return t.withName(m.hfName());
        }
        int dim = switch (m.split()) {
            case ROWS -> 0;
            case COLUMNS -> 1;
            // Llama 1/2 split the embedding by columns (ParallelEmbedding), Llama 3 by rows (VocabParallelEmbedding).
            default -> first.shape().length == 2 && first.shape()[1] == p.dim() ? 0 : 1;
        };
        try {
            return new ConcatTensor(m.hfName(), parts, dim);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(where, e.getMessage());
        }
    }

    /** Every weight present with the shape params.json implies; returns the vocabulary size. */
    private static int checkShapes(Map<String, TensorSource> t, MetaParams p, Path where) throws CheckpointException {
        TensorSource embed = require(t, LlamaNames.EMBED, where);
        long vocab = embed.shape().length == 2 ? embed.shape()[0] : -1;
        if (p.vocabSize() > 0) vocab = p.vocabSize();
        if (vocab <= 0 || vocab > Integer.MAX_VALUE) throw new CheckpointException(where, "tensor " + LlamaNames.EMBED + " has shape " + TensorSource.describe(embed.shape()) + ": expected [vocab, dim]");
        long dim = p.dim(), q = (long) p.nHeads() * p.headDim(), kv = (long) p.nKvHeads() * p.headDim();
        expect(t, LlamaNames.EMBED, where, vocab, dim);
        expect(t, LlamaNames.NORM, where, dim);
        if (t.containsKey(LlamaNames.LM_HEAD)) expect(t, LlamaNames.LM_HEAD, where, vocab, dim);
        long[] gate = require(t, LlamaNames.gate(0), where).shape();
        if (gate.length != 2 || gate[0] <= 0 || gate[0] > Integer.MAX_VALUE)
            throw new CheckpointException(where, "tensor layers.0.feed_forward.w1.weight has shape " + TensorSource.describe(gate) + ": expected [hidden, dim]");
        long inter = gate[0];
        for (int i = 0; i < p.nLayers(); i++) {
            expect(t, LlamaNames.q(i), where, q, dim);
            expect(t, LlamaNames.k(i), where, kv, dim);
            expect(t, LlamaNames.v(i), where, kv, dim);
            expect(t, LlamaNames.o(i), where, dim, q);
            expect(t, LlamaNames.gate(i), where, inter, dim);
            expect(t, LlamaNames.up(i), where, inter, dim);
            expect(t, LlamaNames.down(i), where, dim, inter);
            expect(t, LlamaNames.inputNorm(i), where, dim);
            expect(t, LlamaNames.postNorm(i), where, dim);
        }
        for (String name : t.keySet())
            if (LlamaNames.layerOf(name) >= p.nLayers())
                throw new CheckpointException(where, "tensor " + name + " is beyond the n_layers " + p.nLayers() + " that params.json gives");
        return (int) vocab;
    }

    private static TensorSource require(Map<String, TensorSource> t, String name, Path where) throws CheckpointException {
        TensorSource s = t.get(name);
        if (s == null) throw new CheckpointException(where, "tensor " + name + " (Meta " + metaName(name) + ") is missing");
        return s;
    }

    private static void expect(Map<String, TensorSource> t, String name, Path where, long... shape) throws CheckpointException {
        long[] actual = require(t, name, where).shape();
        if (!Arrays.equals(actual, shape))
            throw new CheckpointException(where, "tensor " + metaName(name) + " has shape " + TensorSource.describe(actual) + " but params.json implies " + TensorSource.describe(shape));
    }

    /** For error messages: the name the user sees in the .pth. */
    private static String metaName(String hf) {
        return switch (hf) {
            case LlamaNames.EMBED -> "tok_embeddings.weight";
            case LlamaNames.NORM -> "norm.weight";
            case LlamaNames.LM_HEAD -> "output.weight";
            default -> {
                int i = LlamaNames.layerOf(hf);
                String rest = hf.substring(LlamaNames.layer(i, "").length());
                yield "layers." + i + "." + switch (rest) {
                    case "self_attn.q_proj.weight" -> "attention.wq.weight";
                    case "self_attn.k_proj.weight" -> "attention.wk.weight";
                    case "self_attn.v_proj.weight" -> "attention.wv.weight";
                    case "self_attn.o_proj.weight" -> "attention.wo.weight";
                    case "mlp.gate_proj.weight" -> "feed_forward.w1.weight";
                    case "mlp.down_proj.weight" -> "feed_forward.w2.weight";
                    case "mlp.up_proj.weight" -> "feed_forward.w3.weight";
                    case "input_layernorm.weight" -> "attention_norm.weight";
                    case "post_attention_layernorm.weight" -> "ffn_norm.weight";
                    default -> rest;
                };
            }
        };
    }

    /**
     * Bit equality. The first row is compared first, so an untied head costs one row of reading: mapped tensors
     * are then compared in place and only page in up to the first difference.
     */
    static boolean sameBytes(TensorSource a, TensorSource b) throws IOException {
        if (a.dtype() != b.dtype() || !Arrays.equals(a.shape(), b.shape())) return false;
        if (a.numel() == 0) return true;
        float[] ra = a.rows(0, 1), rb = b.rows(0, 1);
        for (int i = 0; i < ra.length; i++) if (Float.floatToRawIntBits(ra[i]) != Float.floatToRawIntBits(rb[i])) return false;
        try (Arena arena = Arena.ofConfined()) {
            return a.bytes(arena).mismatch(b.bytes(arena)) == -1;
        }
    }

    private static DType majorityDtype(List<TensorSource> tensors) {
        Map<DType, Long> bytes = new EnumMap<>(DType.class);
        for (TensorSource t : tensors) bytes.merge(t.dtype(), t.byteSize(), Long::sum);
        return bytes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(DType.F32);
    }

    /** Tokenizer files beside the weights: SentencePiece/tiktoken model, HF tokenizer files, llama2.c tok*.bin. */
    private static List<Path> sideFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(Files::isRegularFile)
                    .filter(f -> TOKENIZER_FILES.contains(f.getFileName().toString()) || Llama2cCheckpoint.isTokenizerFile(f))
                    .sorted().toList();
        }
    }
}
