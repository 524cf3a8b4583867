package io.headfuse.formats;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The tensors a Llama checkpoint must hold, their shapes, and the canonical order headfuse writes them in. */
public final class LlamaShapes {
    private LlamaShapes() {}

    /** Expected shape of every required tensor (biases only when the config says attention_bias). */
    public static Map<String, long[]> expected(LlamaConfig c) {
        Map<String, long[]> m = new LinkedHashMap<>();
        long h = c.hiddenSize(), q = (long) c.numHeads() * c.headDim(), f = c.intermediateSize();
        m.put(LlamaNames.EMBED, new long[] {c.vocabSize(), h});
        for (int i = 0; i < c.numLayers(); i++) {
            // K and V rows per layer: equal to num_key_value_heads * head_dim except under DHA's per-layer counts.
            long k = (long) c.kvHeads(i, false) * c.headDim(), v = (long) c.kvHeads(i, true) * c.headDim();
            m.put(LlamaNames.inputNorm(i), new long[] {h});
            m.put(LlamaNames.q(i), new long[] {q, h});
            m.put(LlamaNames.k(i), new long[] {k, h});
            m.put(LlamaNames.v(i), new long[] {v, h});
            m.put(LlamaNames.o(i), new long[] {h, q});
            if (c.attentionBias()) {
                m.put(LlamaNames.qBias(i), new long[] {q});
                m.put(LlamaNames.kBias(i), new long[] {k});
                m.put(LlamaNames.vBias(i), new long[] {v});
            }
            m.put(LlamaNames.postNorm(i), new long[] {h});
            m.put(LlamaNames.gate(i), new long[] {f, h});
            m.put(LlamaNames.up(i), new long[] {f, h});
            m.put(LlamaNames.down(i), new long[] {h, f});
        }
        m.put(LlamaNames.NORM, new long[] {h});
        if (!c.tieWordEmbeddings()) m.put(LlamaNames.LM_HEAD, new long[] {c.vocabSize(), h});
        return m;
    }

    /**
     * What can be checked before the expected shapes are even listed, and what every reader checks at open: layer
     * numbers in tensor names are canonical decimals (so "layers.01" cannot alias layer 1), the config's layer
     * count is that of the tensors (neither layers beyond it, nor a count no tensor backs, such as 2^31-1, whose
     * expected shapes would take minutes to list), and every weight the model computes with is a float.
     */
    public static void checkStored(Path source, LlamaConfig c, List<TensorSource> tensors) throws CheckpointException {
        int layers = 0;
        for (TensorSource t : tensors) {
            int layer = layerNumber(t, source);
            if (layer >= c.numLayers())
                throw new CheckpointException(fileOf(t, source), "tensor " + t.name() + " is in layer " + layer + ", beyond the num_hidden_layers "
                        + c.numLayers() + " of the config");
            layers = Math.max(layers, layer + 1);
        }
        if (layers < c.numLayers())
            throw new CheckpointException(source, "the config has num_hidden_layers " + c.numLayers() + " but tensors are stored for "
                    + layers + " layers (tensor " + LlamaNames.q(layers) + " is missing)");
        Map<String, long[]> expected = expected(c);
        for (TensorSource t : tensors)
            if (expected.containsKey(t.name()) && !t.dtype().isFloat())
                throw new CheckpointException(fileOf(t, source), "tensor " + t.name() + " is " + t.dtype() + ": expected a floating-point weight");
    }

    /** The layer of a {@code model.layers.N.} name (-1 for others), refusing "01", "+1" or numbers past int. */
    private static int layerNumber(TensorSource t, Path source) throws CheckpointException {
        String name = t.name();
        if (!name.startsWith("model.layers.")) return -1;
        int start = "model.layers.".length(), end = name.indexOf('.', start);
        String digits = end < 0 ? name.substring(start) : name.substring(start, end);
        if (!digits.matches("0|[1-9][0-9]{0,8}"))
            throw new CheckpointException(fileOf(t, source), "tensor " + name + ": layer number '" + digits + "' is not a plain decimal");
        return Integer.parseInt(digits);
    }

    /** Checks that every required tensor is present with its expected shape; the error names the file and tensor. */
    public static void validate(Checkpoint ckpt) throws IOException {
        checkStored(ckpt.source(), ckpt.config(), ckpt.tensors());
        Map<String, TensorSource> byName = new LinkedHashMap<>();
        for (TensorSource t : ckpt.tensors()) byName.put(t.name(), t);
        for (var e : expected(ckpt.config()).entrySet()) {
            TensorSource t = byName.get(e.getKey());
            if (t == null) throw new CheckpointException(ckpt.source(), "tensor " + e.getKey() + " is missing");
            if (!Arrays.equals(t.shape(), e.getValue()))
                throw new CheckpointException(fileOf(t, ckpt.source()), "tensor " + e.getKey() + " has shape " + Arrays.toString(t.shape())
                        + " but the config implies " + Arrays.toString(e.getValue()));
        }
    }

    private static Path fileOf(TensorSource t, Path dflt) { return t instanceof MappedTensor m ? m.file() : dflt; }

    /**
     * Canonical order: embedding, then each layer in numeric order (names sorted within a layer), then the rest
     * (final norm, head) sorted. Any input order gives the same output order, hence the same bytes.
     */
    public static List<TensorSource> canonicalOrder(List<TensorSource> tensors) {
        Comparator<TensorSource> cmp = Comparator.comparingInt((TensorSource t) -> rank(t.name()))
                .thenComparingInt(t -> LlamaNames.layerOf(t.name()))
                .thenComparing(TensorSource::name);
        return tensors.stream().sorted(cmp).toList();
    }

    private static int rank(String name) {
        if (name.equals(LlamaNames.EMBED)) return 0;
        return LlamaNames.layerOf(name) >= 0 ? 1 : 2;
    }
}
