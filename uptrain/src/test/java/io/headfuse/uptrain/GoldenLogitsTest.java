package io.headfuse.uptrain;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.uptrain.model.LlamaModel;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** headfuse-mha-s/m against transformers' logits (bf16 arithmetic there, fp32 here: hence the tolerances). */
class GoldenLogitsTest {
    @ParameterizedTest
    @ValueSource(strings = {"headfuse-mha-s", "headfuse-mha-m"})
    void matchesTransformers(String name) throws Exception {
        Path dir = Assets.model(name);
        JsonNode ref = Assets.json(dir.resolve("reference.json"));
        int[] ids = Assets.ints(ref.get("golden_input_ids"));
        float[] golden = Assets.floats(dir.resolve("golden_logits_64.f32"));
        float[][] logits;
        try (LlamaModel m = LlamaModel.load(dir, Device.cpu())) {
            logits = m.logits(ids);
        }
        int vocab = logits[0].length;
        assertEquals(golden.length, ids.length * vocab);
        double sum = 0, max = 0;
        int agree = 0;
        for (int t = 0; t < ids.length; t++) {
            int a = 0, b = 0;
            for (int v = 0; v < vocab; v++) {
                float g = golden[t * vocab + v];
                double d = Math.abs(logits[t][v] - g);
                sum += d;
                max = Math.max(max, d);
                if (logits[t][v] > logits[t][a]) a = v;
                if (g > golden[t * vocab + b]) b = v;
            }
            if (a == b) agree++;
        }
        double mean = sum / golden.length;
        double agreement = (double) agree / ids.length;
        System.out.printf("%s: argmax agreement %.4f, mean |diff| %.5f, max |diff| %.5f%n", name, agreement, mean, max);
        assertTrue(agreement >= 0.99, "argmax agreement " + agreement);
        assertTrue(mean <= 0.02, "mean abs diff " + mean);
        assertTrue(max <= 0.15, "max abs diff " + max);
    }
}
