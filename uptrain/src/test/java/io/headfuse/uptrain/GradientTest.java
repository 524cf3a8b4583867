package io.headfuse.uptrain;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.uptrain.model.LlamaModel;
import org.junit.jupiter.api.Test;

/**
 * The runtime is meant for training too: parameters can require gradients, and the kv head gather sends each
 * shared kv head the gradient of every query head that reads it. stories260K-gqa-hf shares each kv head between
 * two query heads, and stories260K-mha-hf stores a copy per query head: the gradient of a shared GQA K row must
 * be the sum of the gradients of its two MHA copies.
 */
class GradientTest {
    @Test
    void gatherSumsGradientsOfSharedKvHeads() throws Exception {
        int[] ids = KvHeadMapTest.IDS;
        try (LlamaModel gqa = LlamaModel.load(Assets.model("stories260K-gqa-hf"), Device.cpu());
             LlamaModel mha = LlamaModel.load(Assets.model("stories260K-mha-hf"), Device.cpu())) {
            float[] gShared = kGradient(gqa, ids);
            float[] gCopies = kGradient(mha, ids);
            LlamaConfig c = gqa.config();
            int rows = c.headDim() * c.hiddenSize();
            double err = 0, scale = 0;
            for (int kv = 0; kv < c.numKvHeads(); kv++)
                for (int i = 0; i < rows; i++) {
                    double sum = gCopies[(2 * kv) * rows + i] + gCopies[(2 * kv + 1) * rows + i];
                    err = Math.max(err, Math.abs(gShared[kv * rows + i] - sum));
                    scale = Math.max(scale, Math.abs(sum));
                }
            System.out.printf("layer-1 K gradient: shared vs summed copies max diff %.2e at scale %.2e%n", err, scale);
            assertTrue(scale > 0 && err <= 1e-4 * scale, err + " at scale " + scale);
        }
    }

    /** d(mean NLL)/d(layer 1 k_proj) for a sequence. */
    private static float[] kGradient(LlamaModel m, int[] ids) {
        NDArray w = m.weights().layer(1).k();
        w.setRequiresGradient(true);
        try (NDManager sub = m.manager().newSubManager(); GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray logits = m.forward(LlamaModel.tokens(sub, ids)).get("0, :-1");
            long[] next = new long[ids.length - 1];
            for (int i = 1; i < ids.length; i++) next[i - 1] = ids[i];
            NDArray targets = sub.create(next).reshape(-1, 1);
            NDArray loss = logits.logSoftmax(-1).gather(targets, 1).mean().neg();
            gc.backward(loss);
            return w.getGradient().toFloatArray();
        }
    }
}
