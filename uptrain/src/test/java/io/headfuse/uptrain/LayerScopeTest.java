package io.headfuse.uptrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import io.headfuse.uptrain.model.ForwardTap;
import io.headfuse.uptrain.model.LlamaModel;
import org.junit.jupiter.api.Test;

/**
 * Inference frees each layer's intermediates as it goes: after a forward pass, its manager holds a handful of
 * arrays whatever the depth, where a pass that keeps them (a tap is watching) holds dozens per layer. Same logits.
 */
class LayerScopeTest {
    @Test
    void inferenceKeepsOnlyTheLayersOutputs() {
        LlamaModel m = SharedModels.model("headfuse-mha-m");
        int[] ids = SharedModels.tokenizer("headfuse-mha-m").encode("Four score and seven years ago our fathers brought forth", true);
        ForwardTap watching = new ForwardTap() {};
        int freed, kept;
        float[] a, b;
        try (NDManager sub = m.manager().newSubManager()) {
            a = m.forward(LlamaModel.tokens(sub, ids), null, ForwardTap.NONE).toFloatArray();
            freed = sub.getManagedArrays().size();
        }
        try (NDManager sub = m.manager().newSubManager()) {
            b = m.forward(LlamaModel.tokens(sub, ids), null, watching).toFloatArray();
            kept = sub.getManagedArrays().size();
        }
        System.out.printf("headfuse-mha-m (%d layers): arrays left after a forward pass: %d freed per layer, %d kept%n",
                m.config().numLayers(), freed, kept);
        assertArrayEquals(b, a, 0f, "same computation");
        assertTrue(freed < 16, freed + " arrays");
        assertTrue(kept > 10 * m.config().numLayers(), kept + " arrays");
    }
}
