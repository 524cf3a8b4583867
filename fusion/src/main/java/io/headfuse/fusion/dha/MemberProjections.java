package io.headfuse.fusion.dha;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.ComputedTensor;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
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
 * The starting point of learned fusion for a DHA plan: every layer still multi-head, each group's members aligned
 * (the rotations folded into q/k and v/o, which changes nothing the model computes) and then mixed by their
 * group's operator, W'_i = sum_j omega_ij W_j. With omega = I this is the teacher, exactly up to fp32 round-off
 * of the rotations: the trainer starts from the teacher's logits, and the fusion loss is then measured between
 * aligned heads, the same heads the collapse pools.
 */
public final class MemberProjections {
    private MemberProjections() {}

    /** Operators of one layer: {@code k[g]} and {@code v[g]} for the K and V groups, in group order. */
    public record LayerOperators(double[][][] k, double[][][] v) {
        public static LayerOperators identity(Grouping gk, Grouping gv) {
            double[][][] k = new double[gk.groups()][][], v = new double[gv.groups()][][];
            for (int g = 0; g < k.length; g++) k[g] = FusionOperators.identity(gk.members(g).length);
            for (int g = 0; g < v.length; g++) v[g] = FusionOperators.identity(gv.members(g).length);
            return new LayerOperators(k, v);
        }
    }

    /** One layer's aligned MHA weights with each group's members mixed by its operator. */
    public static LayerWeights layer(LayerWeights w, HeadStats k, HeadStats v, Grouping gk, Grouping gv, LayerOperators ops) {
        GroupFit[] kFits = Folding.fits(k, gk, FusionDifficulty.METHOD), vFits = Folding.fits(v, gv, FusionDifficulty.METHOD);
        LayerWeights rotated = Folding.rotate(w, kFits, vFits);
        mix(rotated.k(), gk, ops.k(), w.headDim(), w.hidden());
        mix(rotated.v(), gv, ops.v(), w.headDim(), w.hidden());
        return rotated;
    }

    private static void mix(float[] proj, Grouping g, double[][][] omega, int d, int hidden) {
        for (int c = 0; c < g.groups(); c++) {
            int[] heads = g.members(c);
            FusionOperators.put(proj, heads, FusionOperators.apply(FusionOperators.members(proj, heads, d, hidden), omega[c]));
        }
    }

    /**
     * The whole model at the start of fusion (omega = I in every group): q/k/v/o of every layer replaced, config
     * unchanged (still MHA). Tensors are computed when read.
     */
    public static FusionResult start(Checkpoint in, FusionPlan plan, CalibrationStats stats) throws IOException {
        LlamaConfig c = AsymStrategy.check(in);
        int n = c.numHeads(), d = c.headDim(), hidden = c.hiddenSize();
        Map<String, TensorSource> out = new LinkedHashMap<>();
        for (LayerPlan lp : plan.layers()) {
            int l = lp.layer();
            Grouping gk = Grouping.of(lp.kGroups()), gv = Grouping.of(lp.vGroups());
            LayerWeights[] memo = new LayerWeights[1];
            ComputedTensor.Compute[] parts = new ComputedTensor.Compute[4];
            for (int p = 0; p < 4; p++) {
                int part = p;
                parts[p] = () -> {
                    synchronized (memo) {
                        if (memo[0] == null) {
                            LayerWeights w = AsymStrategy.weights(in, l);
                            InputMoments x = InputMoments.of(in, stats, l);
                            HeadStats[] kv = HeadStats.of(w, x.secondMoment(), x.covariance());
                            memo[0] = layer(w, kv[0], kv[1], gk, gv, LayerOperators.identity(gk, gv));
                        }
                        LayerWeights m = memo[0];
                        return part == 0 ? m.q() : part == 1 ? m.k() : part == 2 ? m.v() : m.o();
                    }
                };
            }
            String[] names = {LlamaNames.q(l), LlamaNames.k(l), LlamaNames.v(l), LlamaNames.o(l)};
            long[][] shapes = {{(long) n * d, hidden}, {(long) n * d, hidden}, {(long) n * d, hidden}, {hidden, (long) n * d}};
            for (int p = 0; p < 4; p++) out.put(names[p], new ComputedTensor(names[p], in.tensor(names[p]).dtype(), shapes[p], parts[p]));
        }
        return new FusionResult(c, out, plan);
    }
}
