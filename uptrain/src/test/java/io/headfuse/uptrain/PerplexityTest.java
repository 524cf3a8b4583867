package io.headfuse.uptrain;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.PerplexityResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** headfuse-mha-s on the validation slice of each training text, against transformers' reference.json. */
class PerplexityTest {
    @ParameterizedTest
    @ValueSource(strings = {"sotu/sotu-1790-2021.txt", "brown/brown-plain.txt", "moby-dick/moby-dick.txt", "tinyshakespeare/tinyshakespeare.txt"})
    void validationSliceMatchesReference(String text) throws Exception {
        JsonNode ref = Assets.json(Assets.model("headfuse-mha-s").resolve("reference.json"));
        String file = text.substring(text.indexOf('/') + 1);
        JsonNode expected = ref.get("ppl").get(file);
        String content = Files.readString(Assets.text(text), StandardCharsets.UTF_8);
        EvalOptions o = EvalOptions.validation().withWindow(ref.get("window").asInt())
                .withProgress(file.startsWith("moby")).withLabel(file); // one bar, to keep it exercised
        PerplexityResult r = Perplexity.evaluate(SharedModels.model("headfuse-mha-s"), SharedModels.tokenizer("headfuse-mha-s"), content, o);
        double rel = r.ppl() / expected.get("ppl").asDouble() - 1;
        System.out.printf("%s: ppl %.4f vs reference %.4f (%+.3f%%), %d tokens, word ppl %.2f, byte ppl %.4f, %.0f tok/s%n",
                file, r.ppl(), expected.get("ppl").asDouble(), 100 * rel, r.tokens(), r.wordPpl(), r.bytePpl(), r.tokensPerSecond());
        assertEquals(expected.get("tokens").asLong(), r.tokens(), "predicted tokens");
        assertTrue(Math.abs(rel) <= 0.005, file + ": " + r.ppl() + " vs " + expected.get("ppl").asDouble());
    }
}
