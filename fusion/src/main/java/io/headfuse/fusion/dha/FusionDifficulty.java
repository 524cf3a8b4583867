package io.headfuse.fusion.dha;

import io.headfuse.fusion.asym.GroupCost;
import io.headfuse.fusion.asym.GroupFit;
import io.headfuse.fusion.asym.Grouping;
import io.headfuse.fusion.asym.HeadStats;
import io.headfuse.fusion.asym.Ward;
import java.util.List;

/**
 * How hard the K (or V, or both together) heads of one layer are to fuse, at every head count: Ward's merge sequence on asym's
 * reconstruction cost (heads aligned, pooled by least squares, errors weighted as the model uses the heads and
 * taken relative to the layer's total, so 0 is lossless and 1 as bad as dropping the heads) gives one grouping
 * per count c = H..1 and its error. Groups may have unequal sizes. Relative errors put every layer and both types
 * on one scale, which is what lets the allocator trade a K head of one layer against a V head of another.
 *
 * <p>Measured on headfuse-mha-m, these errors rank (layer, type) pairs badly against what collapsing them costs the
 * model: V errors are 5-10x the K ones, yet collapsing a layer's K heads raises the calibration loss 1-3x more than
 * collapsing its V heads. The allocator therefore prices counts by a {@link CollapseProbe} when one is given; the
 * groupings come from here either way.
 *
 * @param part    "K", "V", or "KV" when K and V share one grouping (the cost is then the sum of both errors)
 * @param byCount {@code byCount.get(c - 1)}: the grouping into c groups
 * @param errors  {@code errors[c - 1]}: its relative reconstruction error
 */
public record FusionDifficulty(int layer, String part, List<Grouping> byCount, double[] errors) {
    /** The method every DHA group is priced and pooled with: align, least squares, model-weighted errors. */
    public static final GroupFit.Method METHOD = new GroupFit.Method(true, io.headfuse.fusion.asym.Pooling.LEAST_SQUARES, true);

    public FusionDifficulty {
        byCount = List.copyOf(byCount);
        errors = errors.clone();
    }

    /** K or V alone. */
    public static FusionDifficulty measure(int layer, HeadStats s) {
        return measure(layer, s.kind().label(), s.heads(), GroupCost.poolError(s, METHOD).cached());
    }

    /** K and V sharing one grouping per count (Ward on the sum of both relative errors). */
    public static FusionDifficulty measureCoupled(int layer, HeadStats k, HeadStats v) {
        return measure(layer, "KV", k.heads(), GroupCost.poolError(k, METHOD).cached().plus(GroupCost.poolError(v, METHOD).cached()));
    }

    private static FusionDifficulty measure(int layer, String part, int heads, GroupCost cost) {
        List<Grouping> byCount = Ward.hierarchy(heads, cost);
        double[] errors = new double[byCount.size()];
        for (int c = 0; c < errors.length; c++) errors[c] = cost.total(byCount.get(c));
        return new FusionDifficulty(layer, part, byCount, errors);
    }

    @Override public double[] errors() { return errors.clone(); }

    public Grouping grouping(int count) { return byCount.get(count - 1); }

    public double error(int count) { return errors[count - 1]; }
}
