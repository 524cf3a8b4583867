package io.headfuse.uptrain.fusion;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.headfuse.testkit.Assets;
import io.headfuse.uptrain.model.LayerTransform;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import io.headfuse.uptrain.train.Trainer;
import io.headfuse.uptrain.train.TrainerSettings;
import io.headfuse.uptrain.train.TrainingData;
import io.headfuse.uptrain.train.TrainingReport;
import io.headfuse.uptrain.train.UptrainRecipe;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fusion operators on headfuse-mha-s (4 layers, 8 heads) with unequal groups that differ between K and V: at
 * omega = I the student computes the teacher's logits; trained through the ordinary {@link Trainer} with the
 * augmented Lagrangian, the members of every group move together (fusion loss falls), the K/V projections train
 * only through the operators, and the multipliers rise.
 */
class LearnedFusionTest {
    static final int[] IDS = {1, 403, 407, 261, 378, 265, 400, 285, 271, 290, 260, 283, 395, 259, 417, 332, 303, 336, 267, 269};
    static final int[][] K = {{0, 1, 2}, {3, 4}, {5, 6, 7}}, V = {{0, 4}, {1, 2, 3, 5, 6, 7}};

    static List<int[][]> each(int[][] g) {
        List<int[][]> out = new ArrayList<>();
        for (int l = 0; l < 4; l++) out.add(g);
        return out;
    }

    @Test void identityOperatorsComputeTheTeacher() throws Exception {
        try (LlamaModel m = LlamaModel.load(Assets.model("headfuse-mha-s"), Device.cpu());
             LearnedFusion f = new LearnedFusion(m, each(K), each(V), LearnedFusion.Settings.defaults(), 3e-4)) {
            float[][] teacher = m.logits(IDS);
            m.setLayerTransform(f);
            float[][] student = m.logits(IDS);
            double max = 0;
            for (int t = 0; t < IDS.length; t++) for (int v = 0; v < teacher[t].length; v++) max = Math.max(max, Math.abs(teacher[t][v] - student[t][v]));
            System.out.printf("omega = I: max |logit diff| %.2e%n", max);
            assertTrue(max <= 1e-5, "max logit diff " + max);
            double[] loss = f.fusionLoss();
            for (double x : loss) assertTrue(x > 0.05, "members differ at the start: " + x);
            m.setLayerTransform(LayerTransform.NONE);
        }
    }

    @Test void trainingDrivesTheMembersTogether(@TempDir Path tmp) throws Exception {
        int seq = 64;
        Path text = tmp.resolve("moby.txt");
        Files.writeString(text, Files.readString(Assets.text("moby-dick/moby-dick.txt"), StandardCharsets.UTF_8).substring(0, 60_000));
        TrainingData data;
        try (TextTokenizer tok = Tokenizers.forModel(Assets.model("headfuse-mha-s"))) {
            data = TrainingData.load(tok, List.of(text), 0.02, seq);
        }
        UptrainRecipe recipe = UptrainRecipe.defaults(24L * seq * 2, seq).withBatch(2);
        try (LlamaModel teacher = LlamaModel.load(Assets.model("headfuse-mha-s"), Device.cpu());
             LlamaModel student = LlamaModel.load(Assets.model("headfuse-mha-s"), Device.cpu());
             LearnedFusion f = new LearnedFusion(student, each(K), each(V), new LearnedFusion.Settings(1.0, 2, 0.05), recipe.lr());
             Trainer trainer = new Trainer(teacher, student, data, List.of(), recipe, TrainerSettings.defaults(seq).withLogEvery(1), f)) {
            student.setLayerTransform(f);
            float[] k0 = student.weights().layer(0).k().toFloatArray();
            double[] before = f.fusionLoss();
            TrainingReport r = trainer.run(new io.headfuse.uptrain.train.TrainListener() {}, null);
            double[] after = f.fusionLoss();
            List<String> names = trainer.trainableNames();
            assertTrue(names.contains("model.layers.0.self_attn.k_fusion") && names.contains("model.layers.3.self_attn.v_fusion"), names.toString());
            assertFalse(names.contains("model.layers.0.self_attn.k_proj.weight"), "k_proj is derived from the operators");
            assertTrue(names.contains("model.layers.0.self_attn.q_proj.weight"), "the rest trains as the recipe says");
            assertTrue(java.util.Arrays.equals(k0, student.weights().layer(0).k().toFloatArray()), "the stored start weights are not touched");
            for (int l = 0; l < 4; l++) {
                System.out.printf("layer %d fusion loss %.4f -> %.4f, lambda %.4f%n", l, before[l], after[l], f.lambda()[l]);
                assertTrue(after[l] < 0.5 * before[l], "layer " + l + ": " + before[l] + " -> " + after[l]);
                assertTrue(f.lambda()[l] > 0, "multipliers rise by ascent");
            }
            assertEquals(recipe.steps(), f.history().size());
            double kl = r.losses().get(r.losses().size() - 1).loss();
            System.out.printf("KL at the end %.4f after %d steps%n", kl, r.steps());
            assertTrue(Double.isFinite(kl) && kl >= 0 && kl < 1.0, "KL " + kl);
            // The operator stays block-diagonal: heads of different groups never mix.
            float[] op = f.operator(0, false);
            assertEquals(0f, op[0 * 8 + 3]);
            assertTrue(op[0 * 8 + 1] != 0f, "members of a group mix");
        }
    }
}
