package io.headfuse.fusion;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.ComputedTensor;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.TensorSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Mean-pooling, as in the GQA paper (Ainslie et al. 2023): contiguous groups of query heads share one kv head
 * whose K and V rows (and biases) are the average of the group's. Works from any kv count that the target
 * divides (MHA, or an already grouped model pooled further), down to 1 (MQA).
 */
public final class MeanPoolStrategy implements FusionStrategy {
    @Override public String name() { return MeanOptions.NAME; }

    @Override
    public FusionPlan plan(Checkpoint in, FusionRequest request) throws IOException {
        LlamaConfig c = in.config();
        checkTarget(c, request.kvHeads(), in);
        int[][] groups = LayerPlan.contiguous(c.numHeads(), request.kvHeads());
        List<LayerPlan> layers = new ArrayList<>();
        for (int l = 0; l < c.numLayers(); l++) layers.add(new LayerPlan(l, groups, groups, 0));
        return new FusionPlan(name(), c.numHeads(), request.kvHeads(), layers, Map.of());
    }

    static void checkTarget(LlamaConfig c, int kv, Checkpoint in) throws IOException {
        if (c.hasHeadMaps())
            throw new io.headfuse.formats.CheckpointException(in.source(), "has per-layer K/V head maps: mean-pooling needs a contiguous GQA or MHA input");
        if (kv > c.numKvHeads() || c.numKvHeads() % kv != 0)
            throw new IllegalArgumentException("--kv-heads " + kv + " must divide the model's " + c.numKvHeads() + " kv heads (and "
                    + c.numHeads() + " query heads)");
    }

    @Override
    public FusionResult apply(Checkpoint in, FusionPlan plan, FusionRequest request) throws IOException {
        LlamaConfig c = in.config();
        checkTarget(c, plan.kvHeads(), in);
        // Groups of query heads map onto groups of the input's kv heads: with kvIn kv heads, query head h reads
        // kv head h / (H / kvIn), so contiguous query groups of H/kv cover contiguous kv groups of kvIn/kv.
        int[][] kvGroups = LayerPlan.contiguous(c.numKvHeads(), plan.kvHeads());
        Map<String, TensorSource> out = new LinkedHashMap<>();
        for (int l = 0; l < c.numLayers(); l++) {
            for (String name : new String[] {LlamaNames.k(l), LlamaNames.v(l), LlamaNames.kBias(l), LlamaNames.vBias(l)}) {
                if (!in.has(name)) continue;
                out.put(name, pooled(in.tensor(name), c.headDim(), kvGroups));
            }
        }
        return new FusionResult(c.withKvHeads(plan.kvHeads()), out, plan);
    }

    /** The tensor with its kv-head row blocks replaced by each group's mean (computed when written). */
    static TensorSource pooled(TensorSource src, int headDim, int[][] groups) {
        long[] shape = src.shape();
        int cols = shape.length > 1 ? (int) shape[1] : 1;
        long[] outShape = shape.clone();
        outShape[0] = (long) groups.length * headDim;
        return new ComputedTensor(src.name(), src.dtype(), outShape, () -> HeadPooling.meanRows(src.toFloats(), headDim, cols, groups));
    }
}
