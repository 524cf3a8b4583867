package io.headfuse.uptrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.headfuse.uptrain.model.ForwardTap;
import io.headfuse.uptrain.model.KvCache;
import io.headfuse.uptrain.model.LlamaModel;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The preallocated cache: written in place, grown when a step passes its capacity, same logits as no cache. */
class KvCacheTest {
    @Test
    void cacheThatGrowsGivesTheLogitsOfAFullForward() {
        LlamaModel m = SharedModels.model("headfuse-mha-s");
        int[] ids = SharedModels.tokenizer("headfuse-mha-s").encode("The President said that the state of the Union is strong and", true);
        float[][] full = m.logits(ids);
        try (KvCache cache = m.newCache(3)) {
            float[] last = null;
            for (int s = 0; s < ids.length; s += 2) {
                int[] chunk = Arrays.copyOfRange(ids, s, Math.min(ids.length, s + 2));
                try (NDManager sub = m.manager().newSubManager()) {
                    NDArray logits = m.forward(LlamaModel.tokens(sub, chunk), cache, ForwardTap.NONE);
                    last = logits.get(0, chunk.length - 1).toFloatArray();
                }
            }
            assertEquals(ids.length, cache.length());
            assertTrue(cache.capacity() >= ids.length, "grew from 3 to " + cache.capacity());
            var c = m.config();
            assertEquals(2L * c.numLayers() * c.numKvHeads() * c.headDim() * 4 * cache.capacity(), cache.allocatedBytes());
            float[] want = full[ids.length - 1];
            double max = 0;
            for (int v = 0; v < want.length; v++) max = Math.max(max, Math.abs(want[v] - last[v]));
            assertTrue(max < 1e-4, "max logit difference " + max);
        }
    }
}
