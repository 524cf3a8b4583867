package io.headfuse.converter.asym;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.headfuse.converter.report.ConvertedView;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.ComputedTensor;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.TensorSource;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionRequest;
import io.headfuse.fusion.FusionResult;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.asym.Folding;
import io.headfuse.fusion.asym.GroupFit;
import io.headfuse.fusion.asym.Grouping;
import io.headfuse.fusion.asym.HeadPermutation;
import io.headfuse.fusion.asym.HeadStats;
import io.headfuse.fusion.asym.InputMoments;
import io.headfuse.fusion.asym.LayerWeights;
import io.headfuse.fusion.asym.Pooling;
import io.headfuse.uptrain.model.LlamaModel;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The exact steps of the asym export, through the real runtime on headfuse-mha-s: permuting query heads alone and
 * folding the alignment rotations alone leave the logits unchanged; the standard (permuted) GQA export computes
 * what the same groups computed through head maps.
 */
class AsymLogitsTest {
    static final int[] IDS = {1, 415, 2203, 302, 264, 1629, 2872, 272, 1526, 403, 1236, 2872, 661, 403, 264, 5165, 302, 8, 99, 1000, 7000, 8191};

    @Test void permutingQueryHeadsAloneKeepsTheLogits() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            LlamaConfig c = in.config();
            Random r = new Random(5);
            Map<String, TensorSource> repl = new HashMap<>();
            int[][] maps = new int[c.numLayers()][];
            for (int l = 0; l < c.numLayers(); l++) {
                int[] order = shuffled(r, c.numHeads());
                float[] q = HeadPermutation.rows(in.tensor(LlamaNames.q(l)).toFloats(), order, c.headDim(), c.hiddenSize());
                float[] o = HeadPermutation.columns(in.tensor(LlamaNames.o(l)).toFloats(), order, c.headDim(), c.hiddenSize());
                put(repl, in, LlamaNames.q(l), q, DType.F32);
                put(repl, in, LlamaNames.o(l), o, DType.F32);
                maps[l] = HeadPermutation.map(identity(c.numHeads()), order); // query p now reads kv head order[p]
            }
            float[][] before = logits(in, c), after = logits(in, c.withHeadMaps(maps, maps), repl);
            assertClose(before, after, 1e-4);
        }
    }

    @Test void alignmentRotationsAloneKeepTheLogits() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            LlamaConfig c = in.config();
            Map<String, TensorSource> repl = new HashMap<>();
            boolean moved = false;
            GroupFit.Method m = new GroupFit.Method(true, Pooling.LEAST_SQUARES, true);
            for (int l = 0; l < c.numLayers(); l++) {
                LayerWeights w = weights(in, l);
                InputMoments x = InputMoments.of(in, null, l);
                HeadStats[] kv = HeadStats.of(w, x.secondMoment(), x.covariance());
                Grouping gk = Grouping.of(new int[][] {{0, 3, 5, 6}, {1, 2, 4, 7}}), gv = Grouping.of(new int[][] {{0, 1}, {2, 3}, {4, 5, 6, 7}});
                LayerWeights rot = Folding.rotate(w, Folding.fits(kv[0], gk, m), Folding.fits(kv[1], gv, m));
                moved |= !java.util.Arrays.equals(rot.k(), w.k());
                put(repl, in, LlamaNames.q(l), rot.q(), DType.F32);
                put(repl, in, LlamaNames.k(l), rot.k(), DType.F32);
                put(repl, in, LlamaNames.v(l), rot.v(), DType.F32);
                put(repl, in, LlamaNames.o(l), rot.o(), DType.F32);
            }
            assertTrue(moved, "the rotations changed the weights");
            assertClose(logits(in, c), logits(in, c, repl), 2e-3);
        }
    }

    @Test void standardExportEqualsTheSameGroupsThroughHeadMaps() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            LlamaConfig c = in.config();
            AsymStrategy s = new AsymStrategy(AsymStrategy.Settings.defaults().with(true, false, true, 3));
            FusionRequest req = FusionRequest.of(4);
            FusionPlan plan = s.plan(in, req);
            FusionResult standard = s.apply(in, plan, req);
            assertFalse(standard.config().hasHeadMaps(), "coupled equal groups: plain GQA");
            // The same groups, rotations and pooled heads, but query heads left in place and read through maps.
            Map<String, TensorSource> repl = new HashMap<>();
            int[][] maps = new int[c.numLayers()][];
            boolean permuted = false;
            for (int l = 0; l < c.numLayers(); l++) {
                LayerWeights w = weights(in, l);
                InputMoments x = InputMoments.of(in, null, l);
                HeadStats[] kv = HeadStats.of(w, x.secondMoment(), x.covariance());
                Grouping g = Grouping.of(plan.layers().get(l).kGroups());
                permuted |= !g.isContiguous();
                GroupFit.Method m = new GroupFit.Method(true, Pooling.MEAN, true);
                GroupFit[] kf = Folding.fits(kv[0], g, m), vf = Folding.fits(kv[1], g, m);
                LayerWeights rot = Folding.rotate(w, kf, vf);
                float[][] pooled = Folding.pool(rot, kf, vf);
                put(repl, in, LlamaNames.q(l), rot.q(), DType.F32);
                put(repl, in, LlamaNames.o(l), rot.o(), DType.F32);
                put(repl, in, LlamaNames.k(l), pooled[0], DType.F32, 4L * c.headDim(), c.hiddenSize());
                put(repl, in, LlamaNames.v(l), pooled[1], DType.F32, 4L * c.headDim(), c.hiddenSize());
                maps[l] = g.groupOf();
            }
            assertTrue(permuted, "some layer needs its query heads permuted");
            Map<String, TensorSource> std = new HashMap<>();
            for (var e : standard.replacements().entrySet()) put(std, in, e.getKey(), e.getValue().toFloats(), DType.F32, e.getValue().shape());
            assertClose(logits(in, standard.config(), std), logits(in, c.withKvHeads(4).withHeadMaps(maps, maps), repl), 1e-4);
        }
    }

    /** Decoupled and unequal (Ward) groupings come out with head maps, which the runtime loads and runs. */
    @Test void headMapExportsRunInTheRuntime() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            AsymStrategy.Settings plain = AsymStrategy.Settings.defaults().with(false, false, false, 0);
            for (AsymStrategy.Settings options : java.util.List.of(plain, plain.with(true, false, true, 0).withSearch(io.headfuse.fusion.asym.AsymOptions.Search.WARD))) {
                AsymStrategy s = new AsymStrategy(options);
                FusionRequest req = FusionRequest.of(options.search() == io.headfuse.fusion.asym.AsymOptions.Search.WARD ? 4 : 2);
                FusionPlan plan = s.plan(in, req);
                FusionResult r = s.apply(in, plan, req);
                boolean standard = plan.layers().stream().allMatch(lp -> lp.coupled() && java.util.Arrays.stream(lp.kGroups()).allMatch(g -> g.length == 8 / plan.kvHeads()));
                assertEquals(!standard, r.config().hasHeadMaps(), options + ": maps unless every layer is shared and equal");
                float[][] logits = logits(in, r.config(), r.replacements());
                for (float[] row : logits) for (float v : row) assertTrue(Float.isFinite(v));
                System.out.printf("%s: groups of layer 0 K %s V %s%n", options, java.util.Arrays.deepToString(plan.layers().get(0).kGroups()),
                        java.util.Arrays.deepToString(plan.layers().get(0).vGroups()));
            }
        }
    }

    static LayerWeights weights(Checkpoint in, int l) throws Exception {
        LlamaConfig c = in.config();
        return new LayerWeights(in.tensor(LlamaNames.q(l)).toFloats(), in.tensor(LlamaNames.k(l)).toFloats(), in.tensor(LlamaNames.v(l)).toFloats(),
                in.tensor(LlamaNames.o(l)).toFloats(), c.hiddenSize(), c.numHeads(), c.headDim());
    }

    static void put(Map<String, TensorSource> repl, Checkpoint in, String name, float[] values, DType type) throws Exception {
        put(repl, in, name, values, type, in.tensor(name).shape());
    }

    static void put(Map<String, TensorSource> repl, Checkpoint in, String name, float[] values, DType type, long... shape) {
        repl.put(name, new ComputedTensor(name, type, shape, () -> values));
    }

    static float[][] logits(Checkpoint in, LlamaConfig c) throws Exception { return logits(in, c, Map.of()); }

    static float[][] logits(Checkpoint in, LlamaConfig c, Map<String, TensorSource> repl) throws Exception {
        // Everything fp32, so the only differences are the float rounding of the folds.
        Map<String, TensorSource> all = new HashMap<>();
        for (TensorSource t : in.tensors()) {
            TensorSource src = repl.getOrDefault(t.name(), t);
            all.put(t.name(), new ComputedTensor(t.name(), DType.F32, src.shape(), src::toFloats));
        }
        ConvertedView view = new ConvertedView(in, new FusionResult(c, all, null));
        try (LlamaModel m = LlamaModel.load(view, c, Device.cpu())) {
            return m.logits(IDS);
        }
    }

    static void assertClose(float[][] a, float[][] b, double tol) {
        double max = 0, scale = 0;
        for (int t = 0; t < a.length; t++)
            for (int v = 0; v < a[t].length; v++) {
                max = Math.max(max, Math.abs(a[t][v] - b[t][v]));
                scale = Math.max(scale, Math.abs(a[t][v]));
            }
        System.out.printf("max |logit diff| %.3g (logits up to %.1f)%n", max, scale);
        assertTrue(max <= tol * Math.max(1, scale), "max logit difference " + max + " at scale " + scale);
        for (int t = 0; t < a.length; t++) assertArrayEquals(new int[] {argmax(a[t])}, new int[] {argmax(b[t])});
    }

    static int argmax(float[] x) {
        int b = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
        return b;
    }

    static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    static int[] shuffled(Random r, int n) {
        int[] a = identity(n);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
