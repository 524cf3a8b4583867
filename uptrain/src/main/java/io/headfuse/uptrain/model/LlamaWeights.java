package io.headfuse.uptrain.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Llama model's parameters as fp32 NDArrays on one device (or fp16 where a {@link WeightStorage} says so: frozen
 * weights the forward pass widens where it uses them), owned by one manager. Each tensor is read through
 * formats/ and widened to fp32 in Java (DJL's PyTorch engine has no bf16), then copied to the device once.
 *
 * <p>The arrays are plain leaves: callers that train can {@code setRequiresGradient(true)} on any of
 * {@link #parameters()}; the forward pass only reads them, so gradients flow back to them.
 */
public final class LlamaWeights {
    private final NDArray embed;
    private final List<LayerWeights> layers;
    private final NDArray norm;
    private final NDArray lmHead;
    private final boolean tied;

    private LlamaWeights(NDArray embed, List<LayerWeights> layers, NDArray norm, NDArray lmHead, boolean tied) {
        this.embed = embed;
        this.layers = List.copyOf(layers);
        this.norm = norm;
        this.lmHead = lmHead;
        this.tied = tied;
    }

    /** Reads every tensor of {@code ckpt} (shapes checked against {@code config}) into {@code manager}, fp32. */
    public static LlamaWeights load(Checkpoint ckpt, LlamaConfig config, NDManager manager) throws IOException {
        return load(ckpt, config, manager, WeightStorage.FP32);
    }

    /** As {@link #load(Checkpoint, LlamaConfig, NDManager)}, keeping the tensors {@code storage} names in fp16. */
    public static LlamaWeights load(Checkpoint ckpt, LlamaConfig config, NDManager manager, WeightStorage storage) throws IOException {
        Loader in = new Loader(ckpt, manager, storage);
        int h = config.hiddenSize();
        NDArray embed = in.required(LlamaNames.EMBED, config.vocabSize(), h);
        List<LayerWeights> layers = new ArrayList<>();
        for (int i = 0; i < config.numLayers(); i++) layers.add(in.layer(config, i));
        NDArray norm = in.required(LlamaNames.NORM, h);
        // Tied checkpoints may or may not store lm_head (transformers drops it; some exporters keep a copy).
        boolean tied = config.tieWordEmbeddings() || !ckpt.has(LlamaNames.LM_HEAD);
        NDArray head = tied ? embed : in.required(LlamaNames.LM_HEAD, config.vocabSize(), h);
        return new LlamaWeights(embed, layers, norm, head, tied);
    }

    /**
     * Only the embedding (fp32): for running decoder layers one at a time with weights loaded by
     * {@link #loadLayer}, when the whole model does not fit the device (layer-wise calibration). Has no layers,
     * norm or head.
     */
    public static LlamaWeights loadEmbedding(Checkpoint ckpt, LlamaConfig config, NDManager manager) throws IOException {
        NDArray embed = new Loader(ckpt, manager, WeightStorage.FP32).required(LlamaNames.EMBED, config.vocabSize(), config.hiddenSize());
        return new LlamaWeights(embed, List.of(), null, null, true);
    }

    /** Decoder layer {@code i} of {@code ckpt} (fp32) into {@code manager}, shapes checked against {@code config}. */
    public static LayerWeights loadLayer(Checkpoint ckpt, LlamaConfig config, int i, NDManager manager) throws IOException {
        return new Loader(ckpt, manager, WeightStorage.FP32).layer(config, i);
    }

    public NDArray embed() { return embed; }

    public List<LayerWeights> layers() { return layers; }

    public LayerWeights layer(int i) { return layers.get(i); }

    public NDArray norm() { return norm; }

    /** The output projection; the very same array as {@link #embed()} when tied. */
    public NDArray lmHead() { return lmHead; }

    public boolean tied() { return tied; }

    /** Every parameter under its HF name (a tied head appears once, as the embedding). */
    public Map<String, NDArray> parameters() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put(LlamaNames.EMBED, embed);
        for (int i = 0; i < layers.size(); i++) {
            LayerWeights l = layers.get(i);
            out.put(LlamaNames.inputNorm(i), l.inputNorm());
            out.put(LlamaNames.q(i), l.q());
            out.put(LlamaNames.k(i), l.k());
            out.put(LlamaNames.v(i), l.v());
            out.put(LlamaNames.o(i), l.o());
            putIf(out, LlamaNames.qBias(i), l.qBias());
            putIf(out, LlamaNames.kBias(i), l.kBias());
            putIf(out, LlamaNames.vBias(i), l.vBias());
            putIf(out, LlamaNames.layer(i, "self_attn.o_proj.bias"), l.oBias());
            out.put(LlamaNames.postNorm(i), l.postNorm());
            out.put(LlamaNames.gate(i), l.gate());
            out.put(LlamaNames.up(i), l.up());
            out.put(LlamaNames.down(i), l.down());
            putIf(out, LlamaNames.layer(i, "mlp.gate_proj.bias"), l.gateBias());
            putIf(out, LlamaNames.layer(i, "mlp.up_proj.bias"), l.upBias());
            putIf(out, LlamaNames.layer(i, "mlp.down_proj.bias"), l.downBias());
        }
        out.put(LlamaNames.NORM, norm);
        if (!tied) out.put(LlamaNames.LM_HEAD, lmHead);
        return Collections.unmodifiableMap(out);
    }

    private static void putIf(Map<String, NDArray> m, String name, NDArray a) {
        if (a != null) m.put(name, a);
    }

    /** Reads named tensors into fp32 NDArrays, checking shapes. */
    private record Loader(Checkpoint ckpt, NDManager manager, WeightStorage storage) {
        NDArray required(String name, long... shape) throws IOException {
            TensorSource t = ckpt.tensor(name);
            if (!Arrays.equals(t.shape(), shape))
                throw new CheckpointException(ckpt.source(), name + " has shape " + Arrays.toString(t.shape())
                        + ", config.json implies " + Arrays.toString(shape));
            if (!t.dtype().isFloat())
                throw new CheckpointException(ckpt.source(), name + " is " + t.dtype() + ", not a floating-point tensor");
            NDArray a = manager.create(t.toFloats(), new Shape(shape));
            if (storage.isHalf(name)) {
                NDArray half = a.toType(DataType.FLOAT16, false);
                a.close();
                a = half;
            }
            a.setName(name);
            return a;
        }

        NDArray optional(String name, long... shape) throws IOException {
            return ckpt.has(name) ? required(name, shape) : null;
        }

        LayerWeights layer(LlamaConfig config, int i) throws IOException {
            int h = config.hiddenSize();
            int qDim = config.numHeads() * config.headDim();
            // K and V rows of this layer (per-layer under DHA's head counts).
            int kDim = config.kvHeads(i, false) * config.headDim(), vDim = config.kvHeads(i, true) * config.headDim();
            int ff = config.intermediateSize();
            return new LayerWeights(
                    required(LlamaNames.inputNorm(i), h),
                    required(LlamaNames.q(i), qDim, h),
                    required(LlamaNames.k(i), kDim, h),
                    required(LlamaNames.v(i), vDim, h),
                    required(LlamaNames.o(i), h, qDim),
                    optional(LlamaNames.qBias(i), qDim),
                    optional(LlamaNames.kBias(i), kDim),
                    optional(LlamaNames.vBias(i), vDim),
                    optional(LlamaNames.layer(i, "self_attn.o_proj.bias"), h),
                    required(LlamaNames.postNorm(i), h),
                    required(LlamaNames.gate(i), ff, h),
                    required(LlamaNames.up(i), ff, h),
                    required(LlamaNames.down(i), h, ff),
                    optional(LlamaNames.layer(i, "mlp.gate_proj.bias"), ff),
                    optional(LlamaNames.layer(i, "mlp.up_proj.bias"), ff),
                    optional(LlamaNames.layer(i, "mlp.down_proj.bias"), h));
        }
    }
}
