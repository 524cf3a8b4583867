package io.headfuse.uptrain;

import io.headfuse.testkit.Assets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.uptrain.eval.Comparison;
import io.headfuse.uptrain.eval.ComparisonResult;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

class ComparisonTest {
    static String stories() throws Exception {
        return Files.readString(Assets.text("tinystories/TinyStories-valid-sample30k.txt"), StandardCharsets.UTF_8).substring(0, 4000);
    }

    @Test
    void identicalFunctionsHaveZeroKl() throws Exception {
        TextTokenizer tok = SharedModels.tokenizer("stories260K-mha-hf");
        ComparisonResult r = Comparison.run(SharedModels.model("stories260K-mha-hf"), SharedModels.model("stories260K-gqa-hf"),
                tok, stories(), EvalOptions.defaults().withWindow(256));
        System.out.println("mha vs gqa: " + r);
        assertEquals(r.teacher().ppl(), r.student().ppl(), 1e-6 * r.teacher().ppl());
        assertTrue(r.meanKl() < 1e-6 && r.maxKl() < 1e-5, "KL " + r.meanKl());
        assertEquals(1.0, r.top1Agreement());
    }

    @Test
    void bf16StudentIsCloseButNotEqual() throws Exception {
        TextTokenizer tok = SharedModels.tokenizer("stories260K-mha-hf");
        ComparisonResult r = Comparison.run(SharedModels.model("stories260K-mha-hf"), SharedModels.model("stories260K-mha-hf-bf16"),
                tok, stories(), EvalOptions.defaults().withWindow(256));
        System.out.println("fp32 vs bf16: " + r);
        assertTrue(r.meanKl() > 0 && r.meanKl() < 0.01, "KL " + r.meanKl());
        assertTrue(r.top1Agreement() > 0.95);
        assertTrue(Math.abs(r.pplIncrease()) < 0.01);
    }
}
