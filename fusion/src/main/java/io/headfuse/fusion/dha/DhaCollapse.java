package io.headfuse.fusion.dha;

import io.headfuse.fusion.LazyAttention;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionResult;
import io.headfuse.fusion.LayerPlan;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.asym.Folding;
import io.headfuse.fusion.asym.GroupFit;
import io.headfuse.fusion.asym.Grouping;
import io.headfuse.fusion.asym.HeadStats;
import io.headfuse.fusion.asym.InputMoments;
import io.headfuse.fusion.asym.LayerWeights;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Collapses each group of a DHA plan to one head: per layer, the K groups' members are aligned (RoPE-plane
 * rotations folded into q_proj and k_proj) and pooled into k_proj's rows, the V groups' likewise (rotations folded
 * into v_proj and o_proj), through asym's {@link Folding}. k_proj and v_proj then hold as many heads as the layer
 * has groups, so their shapes differ from layer to layer; the config records the counts and the query -> kv maps.
 * When a group's members are equal, alignment is the identity and pooling returns that head, so nothing changes.
 */
public final class DhaCollapse {
    private DhaCollapse() {}

    /** One collapsed layer: rotated q/o, pooled k [kGroups x d, hidden] and v [vGroups x d, hidden], and the groupings. */
    public record CollapsedLayer(float[] q, float[] k, float[] v, float[] o, Grouping kGroups, Grouping vGroups) implements LazyAttention.Projections {}

    /** Collapses one layer's weights given its head statistics and groupings. */
    public static CollapsedLayer layer(LayerWeights w, HeadStats k, HeadStats v, Grouping gk, Grouping gv, GroupFit.Method method) {
        GroupFit[] kFits = Folding.fits(k, gk, method), vFits = Folding.fits(v, gv, method);
        LayerWeights rotated = Folding.rotate(w, kFits, vFits);
        float[][] pooled = Folding.pool(rotated, kFits, vFits);
        return new CollapsedLayer(rotated.q(), pooled[0], pooled[1], rotated.o(), gk, gv);
    }

    /** The config of the collapsed model: per-layer K/V head counts and maps, nominal {@code plan.kvHeads()}. */
    public static LlamaConfig config(LlamaConfig c, FusionPlan plan) {
        int n = c.numLayers();
        int[] kc = new int[n], vc = new int[n];
        int[][] km = new int[n][], vm = new int[n][];
        for (LayerPlan lp : plan.layers()) {
            Grouping gk = Grouping.of(lp.kGroups()), gv = Grouping.of(lp.vGroups());
            kc[lp.layer()] = gk.groups();
            vc[lp.layer()] = gv.groups();
            km[lp.layer()] = gk.groupOf();
            vm[lp.layer()] = gv.groupOf();
        }
        return c.withPerLayerHeads(plan.kvHeads(), kc, vc, km, vm);
    }

    /**
     * The collapsed checkpoint's replacement tensors, computed when the writer asks for them, one layer at a time
     * ({@code stats} null: input moments from the norm weights alone, see {@link InputMoments}).
     */
    public static FusionResult apply(Checkpoint in, FusionPlan plan, CalibrationStats stats, GroupFit.Method method) throws IOException {
        LlamaConfig c = AsymStrategy.check(in);
        if (plan.layers().size() != c.numLayers())
            throw new IllegalArgumentException("the plan covers " + plan.layers().size() + " layers, the model has " + c.numLayers());
        int n = c.numHeads(), d = c.headDim();
        Map<String, TensorSource> out = new LinkedHashMap<>();
        for (LayerPlan lp : plan.layers()) {
            int l = lp.layer();
            Grouping gk = Grouping.of(lp.kGroups()), gv = Grouping.of(lp.vGroups());
            if (gk.heads() != n || gv.heads() != n) throw new IllegalArgumentException("layer " + l + " of the plan does not group " + n + " heads");
            LazyAttention.put(out, in, l, (long) gk.groups() * d, (long) gv.groups() * d, () -> {
                LayerWeights w = AsymStrategy.weights(in, l);
                InputMoments x = InputMoments.of(in, stats, l);
                HeadStats[] kv = HeadStats.of(w, x.secondMoment(), x.covariance());
                return layer(w, kv[0], kv[1], gk, gv, method);
            });
        }
        return new FusionResult(config(c, plan), out, plan);
    }
}
