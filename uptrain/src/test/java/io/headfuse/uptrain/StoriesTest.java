package io.headfuse.uptrain;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.uptrain.eval.Generator;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * stories260K in every format headfuse reads must reproduce llama2.c's reference: logits within 1e-4 (fp32
 * weights) and the 200-token greedy story from BOS, byte for byte. (The bf16 variant is a slightly different
 * function: its greedy story departs from the fp32 one at token 185, so it is not held to this.)
 */
class StoriesTest {
    /** The fp32 stories260K checkpoints, in every format and in both MHA and GQA form. */
    static java.util.stream.Stream<String> fp32Variants() {
        return java.util.stream.Stream.of("stories260K", "stories260K-mha-hf", "stories260K-gqa-hf", "stories260K-mha-meta",
                "stories260K-gqa-meta", "stories260K-mha-llama2c");
    }

    @ParameterizedTest
    @MethodSource("fp32Variants")
    void referenceLogits(String variant) throws Exception {
        JsonNode ref = Assets.json(Assets.reference("stories260K_reference.json"));
        int[] ids = Assets.ints(ref.get("logits_input_ids"));
        float[] expected = Assets.floats(Assets.reference(ref.get("logits_file").asText()));
        try (LlamaModel m = LlamaModel.load(Assets.model(variant), Device.cpu())) {
            float[][] logits = m.logits(ids);
            int vocab = logits[0].length;
            assertEquals(expected.length, ids.length * vocab);
            double max = 0;
            for (int t = 0; t < ids.length; t++)
                for (int v = 0; v < vocab; v++) max = Math.max(max, Math.abs(logits[t][v] - expected[t * vocab + v]));
            System.out.printf("%s: max |logit - reference| = %.2e%n", variant, max);
            assertTrue(max <= 1e-4, variant + ": max abs diff " + max);
        }
    }

    @ParameterizedTest
    @MethodSource("fp32Variants")
    void greedyStory(String variant) throws Exception {
        JsonNode ref = Assets.json(Assets.reference("stories260K_reference.json"));
        int[] expectedIds = Assets.ints(ref.get("greedy_from_bos_200_tokens"));
        String expectedText = Files.readString(Assets.reference(ref.get("greedy_text_file").asText()), StandardCharsets.UTF_8);
        Path dir = Assets.model(variant);
        try (LlamaModel m = LlamaModel.load(dir, Device.cpu()); TextTokenizer tok = Tokenizers.forModel(dir)) {
            int[] out = Generator.greedy(m, new int[] {tok.bosId()}, 200);
            assertArrayEquals(expectedIds, out, variant);
            byte[] text = tok.decode(out).getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(expectedText.getBytes(StandardCharsets.UTF_8), text, variant);
        }
    }
}
