package io.headfuse.uptrain.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.headfuse.uptrain.model.LlamaModel;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One training step checked against independent computations: the gradients of the distillation loss against
 * central finite differences of the loss itself, the global norm against a double-precision sum over the
 * gradients copied to the heap, and the updated weights against AdamW and the global-norm clip written out on the
 * heap from torch's formulas (torch.optim.AdamW, torch.nn.utils.clip_grad_norm_).
 */
class GradientStepTest {
    @Test
    void oneStepMatchesFiniteDifferencesAndAdamWOnTheHeap(@TempDir Path tmp) throws Exception {
        int seq = 64;
        UptrainRecipe recipe = UptrainRecipe.defaults(3L * seq * 2, seq).withBatch(2).withLr(1e-3);
        try (LlamaModel teacher = Students.teacher("headfuse-mha-s");
             LlamaModel student = Students.pairedStudent("headfuse-mha-s");
             Trainer trainer = new Trainer(teacher, student, Students.data("headfuse-mha-s", Students.text(tmp, 60_000), seq), List.of(),
                     recipe, TrainerSettings.defaults(seq));
             NDManager sm = student.manager().newSubManager()) {
            Map<String, NDArray> params = student.weights().parameters();
            Map<String, float[]> w0 = new LinkedHashMap<>();
            for (var e : params.entrySet()) w0.put(e.getKey(), e.getValue().toFloatArray());

            trainer.computeGradients(sm);
            Map<String, float[]> g = trainer.gradients(sm);
            assertEquals(params.keySet(), g.keySet(), "--train all trains every parameter");
            double sq = 0;
            for (float[] a : g.values()) for (float v : a) sq += (double) v * v;
            double norm = Math.sqrt(sq);
            assertTrue(norm > 1.0, "the global norm " + norm + " should exceed the clip bound, so the clip is exercised");

            // Central differences of the loss along single weights, at the largest gradient entry of three tensors.
            double h = 1e-2;
            for (String name : new String[] {"model.layers.0.self_attn.k_proj.weight", "model.layers.3.self_attn.o_proj.weight", "model.embed_tokens.weight"}) {
                float[] grad = g.get(name);
                int at = 0;
                for (int i = 1; i < grad.length; i++) if (Math.abs(grad[i]) > Math.abs(grad[at])) at = i;
                double plus = lossWith(trainer, sm, params.get(name), w0.get(name), at, h);
                double minus = lossWith(trainer, sm, params.get(name), w0.get(name), at, -h);
                set(params.get(name), w0.get(name));
                double fd = (plus - minus) / (2 * h);
                System.out.printf("%s[%d]: autograd %.6f, finite difference %.6f%n", name, at, grad[at], fd);
                assertEquals(grad[at], fd, 0.03 * Math.abs(grad[at]) + 2e-4, name);
            }

            double lr = recipe.lr() * recipe.lrFactor(0);
            float normOnDevice = trainer.clipAndUpdate(sm, lr).getFloat();
            assertEquals(norm, normOnDevice, 1e-4 * norm, "global gradient norm");
            double coef = Math.min(1.0, recipe.clipNorm() / (norm + 1e-6));
            double worst = 0;
            for (var e : params.entrySet()) {
                float[] before = w0.get(e.getKey()), grad = g.get(e.getKey()), after = e.getValue().toFloatArray();
                for (int i = 0; i < before.length; i++) {
                    double gc = grad[i] * coef;
                    double m = (1 - UptrainRecipe.BETA1) * gc, v = (1 - UptrainRecipe.BETA2) * gc * gc;
                    double denom = Math.sqrt(v) / Math.sqrt(1 - UptrainRecipe.BETA2) + UptrainRecipe.EPS;
                    double expected = before[i] - lr / (1 - UptrainRecipe.BETA1) * m / denom;
                    worst = Math.max(worst, Math.abs(after[i] - expected));
                }
            }
            System.out.printf("global norm %.6f (device %.6f), largest deviation from the heap AdamW step %.3e%n", norm, normOnDevice, worst);
            assertTrue(worst < 2e-7, "updated weights deviate from AdamW by " + worst);
        }
    }

    private static double lossWith(Trainer t, NDManager sm, NDArray w, float[] base, int at, double h) {
        float[] v = base.clone();
        v[at] += (float) h;
        set(w, v);
        return t.loss(sm, 0);
    }

    private static void set(NDArray w, float[] v) {
        try (NoGrad off = new NoGrad()) {
            w.set(FloatBuffer.wrap(v));
        }
    }
}
