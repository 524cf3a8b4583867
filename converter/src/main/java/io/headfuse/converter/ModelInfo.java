package io.headfuse.converter;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What {@code headfuse inspect} shows: architecture, size, storage, and what the KV cache costs. */
public record ModelInfo(Path source, String format, int layers, int heads, int kvHeads, int headDim, int hidden,
                        int intermediate, int vocab, long parameters, DType dtype, List<Path> shards, long bytesOnDisk,
                        long kvBytesPerToken, boolean headMaps, int[] kHeadsPerLayer, int[] vHeadsPerLayer) {
    public static final int CONTEXT = 4096;

    public static ModelInfo of(Checkpoint ckpt) throws java.io.IOException {
        LlamaConfig c = ckpt.config();
        DType dtype = ckpt.storedDtype();
        long bytes = 0;
        for (Path p : ckpt.files()) bytes += Files.size(p);
        int[] kc = null, vc = null;
        if (c.hasPerLayerHeads()) {
            kc = new int[c.numLayers()];
            vc = new int[c.numLayers()];
            for (int l = 0; l < kc.length; l++) {
                kc[l] = c.kvHeads(l, false);
                vc[l] = c.kvHeads(l, true);
            }
        }
        return new ModelInfo(ckpt.source(), ckpt.format(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(), c.hiddenSize(),
                c.intermediateSize(), c.vocabSize(), ckpt.parameterCount(), dtype, ckpt.files(), bytes, c.kvBytesPerToken(dtype), c.hasHeadMaps(), kc, vc);
    }

    public long kvBytesPerContext() { return kvBytesPerToken * CONTEXT; }

    /** Human-readable lines. */
    public String describe() {
        StringBuilder s = new StringBuilder();
        s.append(String.format("model           %s%n", source));
        s.append(String.format("format          %s%n", format));
        boolean perLayer = kHeadsPerLayer != null;
        s.append(String.format("architecture    Llama (%s)%n", perLayer ? "DHA, per-layer K/V head counts" : kvHeads == heads ? "MHA" : kvHeads == 1 ? "MQA"
                : headMaps ? "GQA, decoupled K/V head maps" : "GQA"));
        s.append(String.format("layers          %d%n", layers));
        if (perLayer) {
            s.append(String.format("heads           %d query; K per layer %s, V per layer %s (%d kv on average)%n", heads,
                    java.util.Arrays.toString(kHeadsPerLayer), java.util.Arrays.toString(vHeadsPerLayer), kvHeads));
        } else {
            s.append(String.format("heads           %d query, %d kv (group size %d)%n", heads, kvHeads, heads / kvHeads));
        }
        s.append(String.format("head_dim        %d (hidden %d, intermediate %d, vocab %d)%n", headDim, hidden, intermediate, vocab));
        s.append(String.format("parameters      %,d (%s)%n", parameters, Units.count(parameters)));
        s.append(String.format("dtype           %s%n", dtype.name().toLowerCase()));
        s.append(String.format("shards          %d file(s), %s%n", shards.size(), Units.bytes(bytesOnDisk)));
        s.append(String.format("KV cache        %s per token, %s per %d-token context (%s)%n",
                Units.bytes(kvBytesPerToken), Units.bytes(kvBytesPerContext()), CONTEXT, dtype.name().toLowerCase()));
        return s.toString();
    }
}
