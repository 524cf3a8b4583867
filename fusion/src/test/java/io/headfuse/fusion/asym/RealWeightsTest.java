package io.headfuse.fusion.asym;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.testkit.Assets;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionRequest;
import io.headfuse.fusion.FusionResult;
import org.junit.jupiter.api.Test;

/**
 * The math on the real weights of headfuse-mha-s, with input moments from the weights alone (diag of
 * input_layernorm^2): folds keep each head's function; the relative reconstruction error of every variant is
 * pinned to what it measured when written (seed 1), within 1%, which is below each variant's margin over
 * contiguous mean pooling (the search starts there, so "not worse than mean" alone could not fail).
 */
class RealWeightsTest {
    @Test void foldsKeepTheHeadsOfARealLayer() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            LayerWeights w = AsymStrategy.weights(in, 1);
            InputMoments x = InputMoments.of(in, null, 1);
            HeadStats[] kv = HeadStats.of(w, x.secondMoment(), x.covariance());
            Grouping g = Grouping.of(new int[][] {{0, 5, 6, 7}, {1, 2, 3, 4}});
            GroupFit.Method m = new GroupFit.Method(true, Pooling.MEAN, true);
            LayerWeights rot = Folding.rotate(w, Folding.fits(kv[0], g, m), Folding.fits(kv[1], g, m));
            for (int h = 0; h < w.heads(); h++) {
                double[] a = AlignmentTestAccess.qk(w, h), b = AlignmentTestAccess.qk(rot, h);
                assertTrue(Dense.maxAbsDiff(a, b) < 1e-4 * AlignmentTest.max(a), "W_q^T W_k of head " + h);
                double[] c = AlignmentTestAccess.ov(w, h), e = AlignmentTestAccess.ov(rot, h);
                assertTrue(Dense.maxAbsDiff(c, e) < 1e-4 * AlignmentTest.max(c), "W_o W_v of head " + h);
            }
        }
    }

    /** Measured relative errors, [kv 4, kv 2][decoupled, coupled][asym, +align, +align+lsq]; mean pooling 3.2541 / 5.4391. */
    private static final double[][][] MEASURED = {
            {{3.0335, 2.1530, 1.4949}, {3.0631, 2.1779, 1.5041}},
            {{5.2559, 3.6716, 2.9128}, {5.2861, 3.6964, 2.9271}}};
    private static final double[] MEAN_POOL = {3.2541, 5.4391};

    @Test void planOfEveryVariant() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            for (int kv : new int[] {4, 2})
                for (boolean coupled : new boolean[] {false, true})
                    for (int variant = 0; variant < 3; variant++) {
                        AsymStrategy.Settings s = AsymStrategy.Settings.defaults().with(variant >= 1, variant >= 2, coupled, 1);
                        AsymStrategy strategy = new AsymStrategy(s);
                        long t0 = System.nanoTime();
                        FusionPlan plan = strategy.plan(in, FusionRequest.of(kv));
                        double secs = (System.nanoTime() - t0) / 1e9;
                        assertEquals(in.config().numLayers(), plan.layers().size());
                        double err = 0, base = 0;
                        for (Object o : (java.util.List<?>) plan.details().get(AsymStrategy.LAYERS)) {
                            var m = (java.util.Map<?, ?>) o;
                            err += (double) m.get("k_error") + (double) m.get("v_error");
                            base += (double) m.get("k_error_mean_pool") + (double) m.get("v_error_mean_pool");
                        }
                        System.out.printf("mha-s kv=%d %-10s %-22s relative error %.4f (mean pool %.4f) plan %.2fs%n", kv,
                                coupled ? "coupled" : "decoupled", variant == 0 ? "asym" : variant == 1 ? "asym+align" : "asym+align+lsq", err, base, secs);
                        int k = kv == 4 ? 0 : 1;
                        assertEquals(MEAN_POOL[k], base, 1e-3 * MEAN_POOL[k], "mean-pool error");
                        double want = MEASURED[k][coupled ? 1 : 0][variant];
                        assertEquals(want, err, 0.01 * want, "kv=" + kv + (coupled ? " coupled" : " decoupled") + " variant " + variant);
                        if (coupled) assertTrue(plan.coupled());
                        FusionResult r = strategy.apply(in, plan, FusionRequest.of(kv));
                        assertEquals(plan.coupled(), !r.config().hasHeadMaps());
                        assertEquals((long) kv * in.config().headDim() * in.config().hiddenSize(),
                                r.replacements().get("model.layers.0.self_attn.k_proj.weight").toFloats().length);
                    }
        }
    }

    /**
     * apply after plan on the same strategy folds with the statistics the plan kept; a fresh strategy given the
     * same plan recomputes them: the tensors are the same bit for bit, and a plan edited after the fact (other
     * groups) is folded with recomputed statistics, not the kept ones.
     */
    @Test void applyReusesThePlansStatisticsExactly() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            FusionRequest req = FusionRequest.of(2);
            AsymStrategy kept = new AsymStrategy();
            FusionPlan plan = kept.plan(in, req);
            FusionResult reused = kept.apply(in, plan, req);
            FusionResult fresh = new AsymStrategy().apply(in, plan, req);
            assertEquals(fresh.replacements().keySet(), reused.replacements().keySet());
            for (String name : fresh.replacements().keySet())
                assertTrue(java.util.Arrays.equals(fresh.replacements().get(name).toFloats(), reused.replacements().get(name).toFloats()), name);

            // Layer 0 regrouped by hand: the kept statistics no longer match and are not used.
            java.util.List<io.headfuse.fusion.LayerPlan> layers = new java.util.ArrayList<>(kept.plan(in, req).layers());
            io.headfuse.fusion.LayerPlan l0 = layers.get(0);
            int[][] other = {{0, 1, 2, 3}, {4, 5, 6, 7}};
            if (java.util.Arrays.deepEquals(other, l0.kGroups())) other = new int[][] {{0, 2, 4, 6}, {1, 3, 5, 7}};
            layers.set(0, new io.headfuse.fusion.LayerPlan(0, other, other, l0.seconds()));
            FusionPlan edited = new FusionPlan(plan.strategy(), plan.heads(), plan.kvHeads(), layers, plan.details());
            String k0 = "model.layers.0.self_attn.k_proj.weight";
            assertTrue(java.util.Arrays.equals(new AsymStrategy().apply(in, edited, req).replacements().get(k0).toFloats(),
                    kept.apply(in, edited, req).replacements().get(k0).toFloats()), "edited layer 0 folded from recomputed statistics");
        }
    }
}
