package io.headfuse.fusion.asym;

/**
 * The asym strategy for one layer, weights in and weights out: statistics, groups, alignment, pooling, and the
 * query permutation that makes shared equal-size groups contiguous (a standard GQA layer).
 */
public final class LayerFusion {
    private LayerFusion() {}

    /** The whole step, from the layer's input moments (row-major hidden x hidden). */
    public static Result fuse(int layer, LayerWeights w, double[] secondMoment, double[] covariance, AsymOptions o) {
        HeadStats[] kv = HeadStats.of(w, secondMoment, covariance);
        LayerGroups plan = GroupPlanner.plan(layer, kv[0], kv[1], o);
        return new Result(plan, apply(w, kv[0], kv[1], plan, o));
    }

    public record Result(LayerGroups plan, FusedLayer layer) {}

    /** Writes a plan into the weights. */
    public static FusedLayer apply(LayerWeights w, HeadStats k, HeadStats v, LayerGroups plan, AsymOptions o) {
        GroupFit[] kFits = Folding.fits(k, plan.k(), o.method());
        GroupFit[] vFits = Folding.fits(v, plan.v(), o.method());
        LayerWeights rotated = Folding.rotate(w, kFits, vFits);
        float[][] pooled = Folding.pool(rotated, kFits, vFits);
        int n = w.heads();
        int[] kMap = plan.k().groupOf(), vMap = plan.v().groupOf();
        int[] order = new int[n];
        for (int h = 0; h < n; h++) order[h] = h;
        float[] q = rotated.q(), out = rotated.o();
        if (plan.standard() && !plan.k().isContiguous()) {
            order = HeadPermutation.contiguousOrder(plan.k());
            q = HeadPermutation.rows(q, order, w.headDim(), w.hidden());
            out = HeadPermutation.columns(out, order, w.headDim(), w.hidden());
            kMap = HeadPermutation.map(kMap, order);
            vMap = HeadPermutation.map(vMap, order);
        }
        return new FusedLayer(q, pooled[0], pooled[1], out, kMap, vMap, order, o.kvHeads());
    }
}
