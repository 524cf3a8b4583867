package io.headfuse.converter.dha;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.headfuse.converter.CollapseCheck;
import io.headfuse.converter.report.ConvertedView;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.LlamaShapes;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionResult;
import io.headfuse.fusion.LayerPlan;
import io.headfuse.fusion.asym.Grouping;
import io.headfuse.fusion.dha.DhaCollapse;
import io.headfuse.fusion.dha.DhaOptions;
import io.headfuse.fusion.dha.DhaStrategy;
import io.headfuse.fusion.dha.FusionDifficulty;
import io.headfuse.fusion.dha.FusionOperators;
import io.headfuse.fusion.dha.MemberProjections;
import io.headfuse.fusion.FusionRequest;
import io.headfuse.testkit.Assets;
import ai.djl.ndarray.NDManager;
import io.headfuse.uptrain.model.ForwardTap;
import io.headfuse.uptrain.model.KvCache;
import io.headfuse.uptrain.model.LlamaModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Collapse and start exactness through the real runtime. stories260K-mha-hf stores each of its 4 kv heads twice
 * (query heads 2j and 2j+1 read equal K and V rows), so collapsing those pairs must change no logits, whatever mix
 * of collapsed and kept K/V per layer; the result's shapes differ per layer and its KV bytes are exactly the heads
 * it keeps.
 */
class DhaCollapseTest {
    static final int[] IDS = {1, 403, 407, 261, 378, 265, 400, 285, 271, 290, 260, 283, 395, 259, 417, 332, 303, 336, 267, 269};

    @Test void collapsingEqualMembersChangesNoLogitsAndKeepsTheBudget() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("stories260K-mha-hf"))) {
            LlamaConfig c = in.config();
            int[][] pairs = {{0, 1}, {2, 3}, {4, 5}, {6, 7}}, singles = Grouping.contiguous(8, 8).allMembers();
            List<LayerPlan> layers = new ArrayList<>();
            long heads = 0;
            for (int l = 0; l < c.numLayers(); l++) {
                int[][] k = l % 2 == 0 ? pairs : singles, v = l % 3 == 1 ? singles : pairs;
                layers.add(new LayerPlan(l, k, v, 0));
                heads += k.length + v.length;
            }
            FusionPlan plan = new FusionPlan(DhaStrategy.NAME, 8, 4, layers, Map.of());
            FusionResult r = DhaCollapse.apply(in, plan, null, FusionDifficulty.METHOD);
            ConvertedView view = new ConvertedView(in, r);
            LlamaShapes.validate(view);
            assertArrayEquals(new long[] {4 * 8, 64}, view.tensor(LlamaNames.k(0)).shape());
            assertArrayEquals(new long[] {8 * 8, 64}, view.tensor(LlamaNames.k(1)).shape());
            assertArrayEquals(new long[] {8 * 8, 64}, view.tensor(LlamaNames.v(1)).shape());
            assertEquals(heads * 8 * 4, view.config().kvBytesPerToken(DType.F32), "KV bytes are the kept heads, layer by layer");
            assertEquals(56, heads, "K: 3 layers x 4 + 2 x 8; V: 3 x 4 + 2 x 8");
            float[][] before = logits(in, c), after = logits(view, view.config());
            double diff = maxAbsDiff(before, after);
            System.out.printf("collapse of equal pairs: max |logit diff| %.2e%n", diff);
            assertTrue(diff < 1e-4, "max logit diff " + diff);
            // Decoding token by token through the per-layer KV cache gives the full pass's logits.
            float[][] cached = cachedLogits(view, view.config());
            double cacheDiff = maxAbsDiff(after, cached);
            assertTrue(cacheDiff < 1e-4, "cached decoding differs by " + cacheDiff);
        }
    }

    /**
     * The collapse check that learned fusion logs: collapsing stories260K-mha-hf's equal pairs is free (KL and logit
     * change 0 within float error), while pairing heads that differ ({0, 2}, ...) moves the logits and raises the KL.
     */
    @Test void collapseCheckSeesWhatTheCollapseCosts() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("stories260K-mha-hf"))) {
            int[][] equal = {{0, 1}, {2, 3}, {4, 5}, {6, 7}}, unequal = {{0, 2}, {1, 3}, {4, 6}, {5, 7}};
            CollapseCheck free = check(in, equal), costly = check(in, unequal);
            System.out.println("equal pairs: " + free + "\nunequal pairs: " + costly);
            assertTrue(free.klFused() < 1e-6 && free.klCollapsed() < 1e-5 && free.maxLogitChange() < 1e-4, free.toString());
            assertTrue(costly.klFused() < 1e-6, "the fused side is the teacher itself");
            assertTrue(costly.klCollapsed() > 1e-3 && costly.maxLogitChange() > costly.meanLogitChange() && costly.meanLogitChange() > 1e-3,
                    costly.toString());
        }
    }

    private static CollapseCheck check(Checkpoint in, int[][] groups) throws Exception {
        List<LayerPlan> layers = new ArrayList<>();
        for (int l = 0; l < in.config().numLayers(); l++) layers.add(new LayerPlan(l, groups, groups, 0));
        FusionPlan plan = new FusionPlan(DhaStrategy.NAME, 8, 4, layers, Map.of());
        ConvertedView view = new ConvertedView(in, DhaCollapse.apply(in, plan, null, FusionDifficulty.METHOD));
        try (LlamaModel t = LlamaModel.load(in, Device.cpu()); LlamaModel c = LlamaModel.load(view, Device.cpu());
             NDManager m = t.manager().newSubManager()) {
            long[] ids = new long[IDS.length];
            for (int i = 0; i < ids.length; i++) ids[i] = IDS[i];
            return CollapseCheck.measure(t, t, c, m.create(ids, new ai.djl.ndarray.types.Shape(1, ids.length)));
        }
    }

    /**
     * The collapsed headfuse-mha-s at 2 kv heads on average keeps exactly the KV bytes of uniform GQA with 2 kv heads
     * (2 x 2 x 4 layers x 32 dims x 2 bytes), whatever the per-layer split; K and V decoupled, priced by the
     * reconstruction error (no model runs), deterministic.
     */
    @Test void dhaPlanMeetsTheBudgetExactly() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            DhaStrategy dha = new DhaStrategy(DhaOptions.defaults().withCoupled(false).withDifficulty(DhaOptions.Difficulty.RECONSTRUCTION));
            FusionRequest req = new FusionRequest(2, null);
            FusionPlan plan = dha.plan(in, req);
            LlamaConfig out = dha.apply(in, plan, req).config();
            assertEquals(in.config().withKvHeads(2).kvBytesPerToken(DType.BF16), out.kvBytesPerToken(DType.BF16));
            int[] k = (int[]) plan.details().get(DhaStrategy.K_HEADS), v = (int[]) plan.details().get(DhaStrategy.V_HEADS);
            int sum = 0;
            for (int l = 0; l < k.length; l++) {
                sum += k[l] + v[l];
                assertEquals(k[l], out.kvHeads(l, false));
                assertEquals(v[l], out.kvHeads(l, true));
            }
            assertEquals(2 * 2 * 4, sum);
            System.out.printf("mha-s kv 2 decoupled, reconstruction: K %s V %s%n", java.util.Arrays.toString(k), java.util.Arrays.toString(v));
            for (int l = 0; l < k.length; l++) {
                LayerPlan a = plan.layers().get(l), b = dha.plan(in, req).layers().get(l);
                assertTrue(java.util.Arrays.deepEquals(a.kGroups(), b.kGroups()) && java.util.Arrays.deepEquals(a.vGroups(), b.vGroups()));
            }
        }
    }

    /**
     * Start of learned fusion: every group's members aligned and mixed by omega = I, the model still MHA. It computes
     * the teacher's logits (fp32 round-off of the folded rotations), and the fusion loss is the aligned heads' scatter.
     */
    @Test void startOfFusionIsTheTeacher() throws Exception {
        try (Checkpoint in = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            LlamaConfig c = in.config();
            DhaStrategy dha = new DhaStrategy(DhaOptions.defaults().withCoupled(false).withDifficulty(DhaOptions.Difficulty.RECONSTRUCTION));
            FusionRequest req = new FusionRequest(2, null);
            FusionPlan plan = dha.plan(in, req);
            FusionResult start = MemberProjections.start(in, plan, null);
            ConvertedView view = new ConvertedView(in, start);
            float[] k0 = view.tensor(LlamaNames.k(0)).toFloats();
            assertTrue(!java.util.Arrays.equals(k0, in.tensor(LlamaNames.k(0)).toFloats()), "alignment rotated the heads");
            double loss = 0;
            for (int[] g : plan.layers().get(0).kGroups())
                loss += FusionOperators.fusionLoss(FusionOperators.members(k0, g, c.headDim(), c.hiddenSize()));
            assertTrue(loss > 0, "members differ at the start");
            float[][] teacher = logits(in, c), student = logits(view, view.config());
            double diff = maxAbsDiff(teacher, student);
            System.out.printf("start of fusion: max |logit diff| %.2e, layer-0 K fusion loss %.4f%n", diff, loss);
            assertTrue(diff < 1e-3, "max logit diff " + diff);
        }
    }

    static float[][] logits(Checkpoint ckpt, LlamaConfig c) throws Exception {
        try (LlamaModel m = LlamaModel.load(ckpt, c, Device.cpu())) {
            int[] ids = IDS.clone();
            for (int i = 0; i < ids.length; i++) ids[i] = Math.min(ids[i], c.vocabSize() - 1);
            return m.logits(ids);
        }
    }

    /** Logits of each position computed one token at a time with a KV cache. */
    static float[][] cachedLogits(Checkpoint ckpt, LlamaConfig c) throws Exception {
        try (LlamaModel m = LlamaModel.load(ckpt, c, Device.cpu()); KvCache cache = m.newCache()) {
            float[][] rows = new float[IDS.length][];
            for (int t = 0; t < IDS.length; t++)
                try (NDManager sub = m.manager().newSubManager()) {
                    rows[t] = m.forward(LlamaModel.tokens(sub, new int[] {IDS[t]}), cache, ForwardTap.NONE).toFloatArray();
                }
            return rows;
        }
    }

    static double maxAbsDiff(float[][] a, float[][] b) {
        double m = 0;
        for (int t = 0; t < a.length; t++) for (int i = 0; i < a[t].length; i++) m = Math.max(m, Math.abs(a[t][i] - b[t][i]));
        return m;
    }
}
