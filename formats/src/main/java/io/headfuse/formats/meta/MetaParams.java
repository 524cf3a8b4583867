package io.headfuse.formats.meta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.InputFiles;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Meta's {@code params.json}. It has no intermediate size (Meta's model code derives it from multiple_of and
 * ffn_dim_multiplier, which we only check against the w1 shape), and Llama 2 writes {@code vocab_size: -1},
 * leaving the tokenizer to decide: {@code vocabSize} is then -1 and the embedding's shape decides.
 */
record MetaParams(Path file, int dim, int nLayers, int nHeads, int nKvHeads, int vocabSize, int multipleOf,
                  Double ffnDimMultiplier, double normEps, double ropeTheta, Integer maxSeqLen) {

    static MetaParams read(Path file) throws IOException {
        ObjectNode j = InputFiles.readJsonObject(file);
        int dim = positive(j, "dim", file);
        int layers = positive(j, "n_layers", file);
        int heads = positive(j, "n_heads", file);
        int kv = j.hasNonNull("n_kv_heads") ? positive(j, "n_kv_heads", file) : heads;
        if (dim % heads != 0) throw new CheckpointException(file, "dim " + dim + " is not a multiple of n_heads " + heads);
        if (heads % kv != 0) throw new CheckpointException(file, "n_kv_heads " + kv + " does not divide n_heads " + heads);
        if ((dim / heads) % 2 != 0) throw new CheckpointException(file, "head size " + dim / heads + " is odd: RoPE needs pairs");
        int vocab = j.hasNonNull("vocab_size") ? integer(j, "vocab_size", file) : -1;
        if (vocab == 0 || vocab < -1) throw new CheckpointException(file, "'vocab_size' must be positive (or -1: take it from the embedding), got " + vocab);
        int multipleOf = j.hasNonNull("multiple_of") ? positive(j, "multiple_of", file) : 0;
        Double mult = j.hasNonNull("ffn_dim_multiplier") ? number(j, "ffn_dim_multiplier", file) : null;
        if (!j.hasNonNull("norm_eps")) throw new CheckpointException(file, "missing key 'norm_eps'");
        double eps = number(j, "norm_eps", file);
        double theta = j.hasNonNull("rope_theta") ? number(j, "rope_theta", file) : 10000.0;
        // Llama 3.1's long-context RoPE rescales frequencies; the HF config for it needs rope_scaling, which
        // headfuse does not support: refuse rather than produce a model that is wrong past 8K tokens.
        if (j.hasNonNull("use_scaled_rope") && !j.get("use_scaled_rope").isBoolean())
            throw new CheckpointException(file, "'use_scaled_rope' must be true or false, got " + j.get("use_scaled_rope"));
        if (j.path("use_scaled_rope").asBoolean(false))
            throw new CheckpointException(file, "use_scaled_rope: Llama 3.1 scaled RoPE is not supported (only default RoPE)");
        Integer maxSeq = j.hasNonNull("max_seq_len") ? positive(j, "max_seq_len", file) : null;
        return new MetaParams(file, dim, layers, heads, kv, vocab, multipleOf, mult, eps, theta, maxSeq);
    }

    int headDim() { return dim / nHeads; }

    /** Meta's FeedForward size: 2/3 of 4*dim, times ffn_dim_multiplier, rounded up to multiple_of; 0 when unknown. */
    int formulaIntermediate() {
        if (multipleOf <= 0) return 0;
        long hidden = 2L * (4L * dim) / 3;
        if (ffnDimMultiplier != null) hidden = (long) (ffnDimMultiplier * hidden);
        return (int) (multipleOf * ((hidden + multipleOf - 1) / multipleOf));
    }

    private static int integer(ObjectNode j, String key, Path file) throws CheckpointException {
        JsonNode n = j.get(key);
        if (!n.isIntegralNumber() || !n.canConvertToInt()) throw new CheckpointException(file, "'" + key + "' must be an integer, got " + n);
        return n.asInt();
    }

    private static int positive(ObjectNode j, String key, Path file) throws CheckpointException {
        if (!j.hasNonNull(key)) throw new CheckpointException(file, "missing key '" + key + "'");
        int v = integer(j, key, file);
        if (v <= 0) throw new CheckpointException(file, "'" + key + "' must be positive, got " + v);
        return v;
    }

    private static double number(ObjectNode j, String key, Path file) throws CheckpointException {
        JsonNode n = j.get(key);
        // norm_eps, rope_theta and ffn_dim_multiplier are all scales: zero, negative or infinite is never meant.
        if (!n.isNumber() || !Double.isFinite(n.asDouble()) || n.asDouble() <= 0)
            throw new CheckpointException(file, "'" + key + "' must be a positive number, got " + n);
        return n.asDouble();
    }
}
