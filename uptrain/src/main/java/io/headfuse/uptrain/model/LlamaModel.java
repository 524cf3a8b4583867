package io.headfuse.uptrain.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.calib.CalibrationStats;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A Llama causal LM on DJL's PyTorch engine, built from primitives (DJL has no fused attention or RMSNorm; where
 * headfuse's own {@link FusedKernels} library is loaded, attention without a cache, RMSNorm and SwiGLU use it):
 * token embedding, pre-norm decoder layers (RMSNorm, RoPE attention with a causal mask, SwiGLU MLP), final
 * RMSNorm and a tied or untied LM head. All math is fp32 (TF32 matmuls on GPU unless turned off, see
 * {@link TorchRuntime}).
 *
 * <p>Attention reads K and V through per-layer index maps ({@link KvHeadMaps}): for each query head, the kv head
 * it uses, separately for K and V. Keys and values are computed for the checkpoint's kv heads only and then
 * gathered to query heads with an index (an exact copy), so MHA, contiguous GQA, MQA and arbitrary maps run
 * through one code path and gradients reach shared kv heads from every query head that reads them. Layers may
 * store different numbers of K and V heads (DHA); the {@link KvCache} then holds each layer's own count.
 *
 * <p>Memory: the weights and the RoPE / mask tables live in the model's manager; every forward pass attaches
 * its intermediates to the manager of its input ids, so a caller that opens a sub-manager per window
 * ({@code try (NDManager sub = model.manager().newSubManager())}) keeps native memory flat over long runs.
 */
public final class LlamaModel implements AutoCloseable {
    private final LlamaConfig config;
    private final NDManager manager;
    private final LlamaWeights weights;
    private final KvHeadMaps maps;
    /** Per layer, the K and V gather indices (int64 [heads]) or null where the map is the identity. */
    private final NDArray[] kIndex;
    private final NDArray[] vIndex;
    /** Per layer, whether K and V share one head count and contiguous groups (GQA / MQA), so attention can skip the gather. */
    private final boolean[] grouped;
    /**
     * Per layer, whether each query head's kv head follows from its index, so the fused kernels can attend over the
     * cache without a gather: contiguous groups (GQA, MQA) or identity maps (MHA, where K and V counts are equal).
     */
    private final boolean[] decodable;
    private final Rope rope;
    private final CausalMask mask;
    private final float scale;
    /** Applied to each layer's stored weights in every forward pass (none unless set; DHA's learned fusion sets one). */
    private volatile LayerTransform transform = LayerTransform.NONE;

    private LlamaModel(LlamaConfig config, NDManager manager, LlamaWeights weights, KvHeadMaps maps) {
        this.config = config;
        this.manager = manager;
        this.weights = weights;
        this.maps = maps;
        int layers = config.numLayers();
        this.kIndex = new NDArray[layers];
        this.vIndex = new NDArray[layers];
        for (int l = 0; l < layers; l++) {
            kIndex[l] = indexOf(maps.k(l), maps.kHeads(l));
            vIndex[l] = indexOf(maps.v(l), maps.vHeads(l));
        }
        this.grouped = new boolean[layers];
        // Per layer (DHA layers differ): the fast path needs K and V to share one count and contiguous groups.
        for (int l = 0; l < layers; l++)
            grouped[l] = kIndex[l] != null && maps.kHeads(l) == maps.vHeads(l)
                    && KvHeadMaps.isContiguous(maps.k(l), maps.kHeads(l)) && KvHeadMaps.isContiguous(maps.v(l), maps.vHeads(l));
        this.decodable = new boolean[layers];
        for (int l = 0; l < layers; l++)
            decodable[l] = grouped[l] || (kIndex[l] == null && vIndex[l] == null);
        this.rope = new Rope(manager, config.headDim(), config.ropeTheta(), config.maxPositions());
        this.mask = new CausalMask(manager, config.maxPositions());
        this.scale = (float) (1.0 / Math.sqrt(config.headDim()));
    }

    /** Opens the checkpoint at {@code path} (any format formats/ reads) and loads it onto {@code device}. */
    public static LlamaModel load(Path path, Device device) throws IOException {
        try (Checkpoint ckpt = Checkpoints.open(path)) {
            return load(ckpt, device);
        }
    }

    /** Loads {@code ckpt} with the kv head maps its config implies. */
    public static LlamaModel load(Checkpoint ckpt, Device device) throws IOException {
        return load(ckpt, ckpt.config(), device);
    }

    /**
     * Loads {@code ckpt}'s tensors under {@code config}, which must describe the same tensor shapes but may carry
     * other kv head maps (e.g. {@code ckpt.config().withHeadMaps(k, v)} to run an MHA checkpoint as if grouped).
     */
    public static LlamaModel load(Checkpoint ckpt, LlamaConfig config, Device device) throws IOException {
        return load(ckpt, config, device, WeightStorage.FP32);
    }

    /** Opens the checkpoint at {@code path} and loads it onto {@code device}, storing weights as {@code storage} says. */
    public static LlamaModel load(Path path, Device device, WeightStorage storage) throws IOException {
        try (Checkpoint ckpt = Checkpoints.open(path)) {
            return load(ckpt, ckpt.config(), device, storage);
        }
    }

    /** As {@link #load(Checkpoint, LlamaConfig, Device)}, with frozen weights kept in fp16 where {@code storage} says. */
    public static LlamaModel load(Checkpoint ckpt, LlamaConfig config, Device device, WeightStorage storage) throws IOException {
        TorchRuntime.engine();
        NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        try {
            LlamaWeights w = LlamaWeights.load(ckpt, config, manager, storage);
            return new LlamaModel(config, manager, w, KvHeadMaps.of(config));
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * A model that holds only the embedding (and the RoPE / mask tables): decoder layers run one at a time through
     * {@link #runLayer} with weights the caller loads ({@link LlamaWeights#loadLayer}) and frees, so a model larger
     * than the device can still be run layer by layer (layer-wise calibration). {@link #forward} is not available.
     */
    public static LlamaModel loadEmbeddingOnly(Checkpoint ckpt, Device device) throws IOException {
        TorchRuntime.engine();
        NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        try {
            LlamaConfig config = ckpt.config();
            return new LlamaModel(config, manager, LlamaWeights.loadEmbedding(ckpt, config, manager), KvHeadMaps.of(config));
        } catch (IOException | RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** The token embeddings [B, T, hidden] of int64 ids [B, T], attached to the ids' manager. */
    public NDArray embed(NDArray ids) {
        NDManager m = ids.getManager();
        return fp32(weights.embed().get(m, new NDIndex("{}", ids)), m);
    }

    /**
     * Decoder layer {@code l} with weights {@code w} on the residual stream {@code x} [B, T, hidden] (positions
     * from 0, no cache); intermediates and the result are attached to {@code x}'s manager.
     */
    public NDArray runLayer(int l, LayerWeights w, NDArray x, ForwardTap tap) {
        int t = (int) x.getShape().get(1);
        return layer(l, w, x, 0, mask.rows(0, t, x.getManager()), null, tap);
    }

    /** The attention input of a layer with weights {@code w}: its input RMSNorm of {@code x}. */
    public NDArray attentionInput(LayerWeights w, NDArray x) {
        return rmsNorm(x, fp32(w.inputNorm(), x.getManager()));
    }

    private NDArray indexOf(int[] map, int kvHeads) {
        if (KvHeadMaps.isIdentity(map, kvHeads)) return null;
        long[] idx = new long[map.length];
        for (int i = 0; i < map.length; i++) idx[i] = map[i];
        return manager.create(idx);
    }

    public LlamaConfig config() { return config; }

    public Device device() { return manager.getDevice(); }

    /** The manager owning the weights; open per-window sub-managers from it. */
    public NDManager manager() { return manager; }

    public LlamaWeights weights() { return weights; }

    public KvHeadMaps kvHeadMaps() { return maps; }

    /** Every later forward pass computes each layer with {@code t}'s weights ({@link LayerTransform#NONE} to stop). */
    public void setLayerTransform(LayerTransform t) { this.transform = java.util.Objects.requireNonNull(t, "transform"); }

    /** A fresh cache for incremental decoding; close it when done. */
    public KvCache newCache() { return newCache(KvCache.DEFAULT_CAPACITY); }

    /** A fresh cache preallocated for {@code positions} tokens per sequence (it grows if they are exceeded). */
    public KvCache newCache(int positions) { return new KvCache(manager, config.numLayers(), positions); }

    /** Logits [T, vocab] for one sequence (no cache), copied to the heap. */
    public float[][] logits(int[] ids) {
        try (NDManager sub = manager.newSubManager()) {
            NDArray out = forward(tokens(sub, ids));
            float[] flat = out.toFloatArray();
            int v = config.vocabSize();
            float[][] rows = new float[ids.length][];
            for (int t = 0; t < ids.length; t++) rows[t] = java.util.Arrays.copyOfRange(flat, t * v, (t + 1) * v);
            return rows;
        }
    }

    /** {@code ids} as an int64 [1, T] array in {@code m}. */
    public static NDArray tokens(NDManager m, int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return m.create(l, new Shape(1, ids.length));
    }

    /** Logits [B, T, vocab] for int64 ids [B, T] (or [T] giving [T, vocab]), attached to the ids' manager. */
    public NDArray forward(NDArray ids) { return forward(ids, null, ForwardTap.NONE); }

    /**
     * The forward pass. With a cache, {@code ids} are the next tokens after the cached positions; their keys and
     * values are appended to it. Call it in a fresh manager per step when a cache is used.
     */
    public NDArray forward(NDArray ids, KvCache cache, ForwardTap tap) {
        boolean batched = ids.getShape().dimension() == 2;
        NDArray h = hidden(batched ? ids : ids.expandDims(0), cache, tap, config.numLayers());
        NDArray logits = head(h);
        return batched ? logits : logits.squeeze(0);
    }

    /** Logits [B, T, vocab] of a residual stream [B, T, hidden] from {@link #hidden}: final RMSNorm and LM head. */
    public NDArray head(NDArray h) {
        NDManager m = h.getManager();
        NDArray head = weights.lmHead();
        return linear(rmsNorm(h, fp32(weights.norm(), m)), halfMatmuls() ? head : fp32(head, m), null);
    }

    /** The residual stream [B, T, hidden] after the first {@code layers} decoder layers (before the final norm). */
    public NDArray hidden(NDArray ids, KvCache cache, ForwardTap tap, int layers) {
        NDManager m = ids.getManager();
        NDArray tokens = ids.getDataType() == DataType.INT64 ? ids : ids.toType(DataType.INT64, false);
        int t = (int) tokens.getShape().get(1);
        int start = cache == null ? 0 : cache.length();
        if (cache != null && layers != config.numLayers())
            throw new IllegalArgumentException("a kv cache needs every layer to run");
        NDArray x = embed(tokens);
        NDArray causal = mask.rows(start, t, m);
        // Without a tap each layer's intermediates are freed when the layer is done (see scopedLayer), in training
        // too: closing a DJL handle only drops DJL's reference, and autograd keeps its own on what backward needs,
        // so only the tensors nothing needs are freed. Taps may look at intermediates, so they keep them.
        boolean scoped = tap == ForwardTap.NONE;
        for (int l = 0; l < layers; l++)
            x = scoped ? scopedLayer(l, x, start, causal, cache) : layer(l, weights.layer(l), x, start, causal, cache, tap);
        if (cache != null) cache.advance(t);
        return x;
    }

    /**
     * One layer whose intermediates live in their own manager, closed when the layer returns; only the output
     * moves to the caller's manager, and the consumed input is freed. DJL frees arrays only when their manager
     * closes, so without this a forward pass holds every layer's attention scores at once: for a 7B model at
     * batch 16 that is 32 x several GiB per prefill chunk instead of one layer's worth.
     */
    private NDArray scopedLayer(int l, NDArray x, int start, NDArray causal, KvCache cache) {
        NDManager outer = x.getManager();
        NDArray out;
        try (NDManager scope = outer.newSubManager()) {
            x.tempAttach(scope);
            out = layer(l, weights.layer(l), x, start, causal, cache, ForwardTap.NONE);
            out.attach(outer);
        }
        x.close();
        return out;
    }

    private NDArray layer(int l, LayerWeights stored, NDArray x, int start, NDArray causal, KvCache cache, ForwardTap tap) {
        NDManager step = x.getManager();
        // fp16-stored matrices stay fp16 where the fused kernels can multiply by them directly (see linear).
        boolean half = halfMatmuls();
        LayerWeights w = transform.apply(l, stored, step).map(a -> half && a.getShape().dimension() == 2 ? a : fp32(a, step));
        FusedKernels fused = FusedKernels.get();
        if (fused != null && fused.decodeLayerEnabled() && cache != null && x.getShape().get(1) == 1 && tap == ForwardTap.NONE
                && decodable[l] && !ai.djl.pytorch.jni.JniUtils.isGradMode()) {
            // A decode step (one position, inference): the whole layer in one native call.
            NDArray[] kv = cache.reserve(l, x.getShape().get(0), maps.kHeads(l), config.headDim(), 1, x.getDevice());
            NDArray[] tables = rope.tables(start + 1);
            return fused.decodeLayer(x, w, kv[0], kv[1], start, tables[0], tables[1], config.numHeads(), config.rmsNormEps(), scale);
        }
        NDArray h = rmsNorm(x, w.inputNorm());
        tap.attentionInput(l, h);
        NDArray attn = attention(l, w, h, start, causal, cache, tap);
        x = x.add(linear(attn, w.o(), w.oBias()));
        NDArray h2 = rmsNorm(x, w.postNorm());
        NDArray gate = linear(h2, w.gate(), w.gateBias());
        NDArray up = linear(h2, w.up(), w.upBias());
        NDArray act = fused != null ? fused.siluMul(gate, up) : Activation.swish(gate, 1f).mul(up);
        return x.add(linear(act, w.down(), w.downBias()));
    }

    private NDArray attention(int l, LayerWeights w, NDArray h, int start, NDArray causal, KvCache cache, ForwardTap tap) {
        long b = h.getShape().get(0);
        long t = h.getShape().get(1);
        int d = config.headDim();
        NDArray q = heads(linear(h, w.q(), w.qBias()), b, t, config.numHeads(), d);
        // Per-layer K and V head counts (DHA); num_key_value_heads for every layer otherwise.
        NDArray k = heads(linear(h, w.k(), w.kBias()), b, t, maps.kHeads(l), d);
        NDArray v = heads(linear(h, w.v(), w.vBias()), b, t, maps.vHeads(l), d);
        tap.keysValues(l, k, v);
        q = rope.apply(q, start);
        k = rope.apply(k, start);
        if (cache != null) {
            NDArray[] kv = cache.append(l, k, v, h.getManager());
            k = kv[0];
            v = kv[1];
        }
        FusedKernels fused = FusedKernels.get();
        // Decoding with the fused kernels, where each query head's kv head follows from its index (contiguous groups
        // or MHA): one call that reads each kv head's cache once; one query row (a step) needs no mask.
        if (fused != null && cache != null && decodable[l])
            return mergeHeads(fused.groupedAttention(q, k, v, t == 1 ? null : causal, scale), b, t);
        if (grouped[l] && fused == null) return groupedAttention(q, k, v, causal, b, t);
        // Query head i reads kv head map[i]: an index gather along the head axis (an exact copy).
        if (kIndex[l] != null) k = k.get(h.getManager(), new NDIndex(":, {}", kIndex[l]));
        if (vIndex[l] != null) v = v.get(h.getManager(), new NDIndex(":, {}", vIndex[l]));
        NDArray out;                                                           // [B, heads, T, d]
        if (fused != null && cache == null) {
            // Training, evaluation, prefill from position 0: fused causal attention, no [B, heads, T, T] scores.
            out = fused.attention(q, k, v, true, scale);
        } else {
            NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).add(causal);
            out = scores.softmax(-1).matMul(v);
        }
        return mergeHeads(out, b, t);
    }

    /** [B, heads, T, d] -> [B, T, heads*d]. */
    private NDArray mergeHeads(NDArray out, long b, long t) {
        return out.transpose(0, 2, 1, 3).reshape(b, t, (long) config.numHeads() * config.headDim());
    }

    /**
     * {@code w} itself when fp32; an fp16-stored weight ({@link WeightStorage}) widened to fp32 in {@code step}'s
     * manager, so the copy lives only as long as the step that uses it.
     */
    private static NDArray fp32(NDArray w, NDManager step) {
        if (w.getDataType() == DataType.FLOAT32) return w;
        NDArray wide = w.toType(DataType.FLOAT32, false);
        wide.attach(step);
        return wide;
    }

    /**
     * Attention for contiguous groups without copying K and V per query head: the g query heads of kv head j
     * are stacked into one [g*T, d] block per kv head, so one matmul against that kv head's keys serves them all.
     * During decoding this reads the cache once per kv head instead of materializing a [B, heads, S, d] copy per
     * layer and step, which is where GQA's decode speed comes from.
     */
    private NDArray groupedAttention(NDArray q, NDArray k, NDArray v, NDArray causal, long b, long t) {
        int heads = config.numHeads();
        long kv = k.getShape().get(1);
        long g = heads / kv;
        int d = config.headDim();
        long s = k.getShape().get(2);
        NDArray scores = q.reshape(b, kv, g * t, d).matMul(k.transpose(0, 1, 3, 2)).reshape(b, heads, t, s).mul(scale).add(causal);
        NDArray out = scores.softmax(-1).reshape(b, kv, g * t, s).matMul(v);   // [B, kv, g*T, d]
        return out.reshape(b, heads, t, d).transpose(0, 2, 1, 3).reshape(b, t, (long) heads * d);
    }

    /** [B, T, n*d] -> [B, n, T, d]. */
    private static NDArray heads(NDArray x, long b, long t, int n, int d) {
        return x.reshape(b, t, n, d).transpose(0, 2, 1, 3);
    }

    /**
     * Whether fp16-stored weights are multiplied as fp16 now: with the fused kernels and no gradient being recorded
     * (inference, the frozen teacher). A student whose activations need gradients widens them instead: fp16
     * gradients of activations would underflow.
     */
    private static boolean halfMatmuls() {
        return FusedKernels.get() != null && !ai.djl.pytorch.jni.JniUtils.isGradMode();
    }

    private static NDArray linear(NDArray x, NDArray weight, NDArray bias) {
        if (weight.getDataType() == DataType.FLOAT16) return FusedKernels.get().linearHalf(x, weight, bias);
        return (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias)).singletonOrThrow();
    }

    /** HF LlamaRMSNorm: x / sqrt(mean(x^2) + eps) * weight, in fp32. */
    private NDArray rmsNorm(NDArray x, NDArray weight) {
        FusedKernels fused = FusedKernels.get();
        if (fused != null) return fused.rmsNorm(x, weight, config.rmsNormEps());
        NDArray var = x.square().mean(new int[] {-1}, true);
        return x.div(var.add((float) config.rmsNormEps()).sqrt()).mul(weight);
    }

    /**
     * Calibration: runs each sequence forward and, per layer, adds X^T X and the column sums of the attention
     * input X ([tokens, hidden], the output of input_layernorm) to {@code stats}, computed on the device.
     */
    public void calibrate(List<int[]> sequences, CalibrationStats stats) {
        if (stats.layers() != config.numLayers() || stats.hidden() != config.hiddenSize())
            throw new IllegalArgumentException("calibration stats sized for " + stats.layers() + " layers x " + stats.hidden()
                    + ", model has " + config.numLayers() + " x " + config.hiddenSize());
        for (int[] ids : sequences) calibrate(ids, stats);
    }

    /** {@link #calibrate(List, CalibrationStats)} for one sequence. */
    public void calibrate(int[] ids, CalibrationStats stats) {
        try (NDManager sub = manager.newSubManager()) {
            ForwardTap tap = new ForwardTap() {
                @Override public void attentionInput(int layer, NDArray x) { addStats(layer, x, stats); }
            };
            // Only attention inputs are needed: run layers 0..L-2 and take the last one's input norm directly
            // (no last MLP, no LM head).
            int last = config.numLayers() - 1;
            NDArray x = hidden(tokens(sub, ids), null, tap, last);
            tap.attentionInput(last, rmsNorm(x, fp32(weights.layer(last).inputNorm(), sub)));
        }
    }

    /** Adds X^T X and the column sums of an attention input X ([B, T, hidden]) to {@code stats}, computed on the device. */
    public static void addStats(int layer, NDArray x, CalibrationStats stats) {
        NDArray rows = x.reshape(-1, x.getShape().get(x.getShape().dimension() - 1));
        NDArray xtx = rows.transpose().matMul(rows);
        NDArray sums = rows.sum(new int[] {0});
        stats.add(layer, xtx.toFloatArray(), sums.toFloatArray(), (int) rows.getShape().get(0));
    }

    @Override public void close() { manager.close(); }
}
