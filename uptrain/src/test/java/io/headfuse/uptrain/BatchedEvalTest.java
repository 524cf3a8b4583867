package io.headfuse.uptrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.testkit.Assets;
import io.headfuse.uptrain.eval.Comparison;
import io.headfuse.uptrain.eval.ComparisonResult;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.PerplexityResult;
import io.headfuse.uptrain.eval.TokenStream;
import io.headfuse.uptrain.model.LlamaModel;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** Stacking windows changes nothing but speed: batch 1 and batch B give the same perplexity (and comparison). */
class BatchedEvalTest {
    /** Moby-Dick's validation slice in 128-token windows: 40 full windows and a short last one. */
    private static TokenStream stream(EvalOptions o) throws Exception {
        String text = Files.readString(Assets.text("moby-dick/moby-dick.txt"));
        return TokenStream.of(SharedModels.tokenizer("headfuse-mha-s"), text, o);
    }

    @Test
    void perplexityAtBatchEightEqualsBatchOne() throws Exception {
        EvalOptions o = EvalOptions.validation().withWindow(128).withMaxTokens(5_200);
        TokenStream s = stream(o);
        assertTrue(s.length() % 128 > 1, "the stream must end in a short window: " + s.length());
        LlamaModel m = SharedModels.model("headfuse-mha-s");
        PerplexityResult one = Perplexity.evaluate(m, s, o.withBatch(1));
        for (int b : new int[] {8, 3}) {
            PerplexityResult many = Perplexity.evaluate(m, s, o.withBatch(b));
            double rel = Math.abs(many.ppl() / one.ppl() - 1);
            System.out.printf("batch 1: ppl %.8f (%.0f tok/s); batch %d: ppl %.8f (%.0f tok/s), relative difference %.2e%n",
                    one.ppl(), one.tokensPerSecond(), b, many.ppl(), many.tokensPerSecond(), rel);
            assertEquals(one.tokens(), many.tokens(), "predicted tokens");
            assertEquals(one.processed(), many.processed(), "processed tokens");
            assertTrue(rel <= 1e-6, "batch " + b + ": " + many.ppl() + " vs " + one.ppl());
        }
        assertEquals(one.totalNll(), Perplexity.evaluate(m, s, o.withBatch(0)).totalNll(), "the CPU's default batch is 1");
    }

    @Test
    void comparisonAtBatchFourEqualsBatchOne() throws Exception {
        EvalOptions o = EvalOptions.validation().withWindow(128).withMaxTokens(1_100);
        TokenStream s = stream(o);
        LlamaModel teacher = SharedModels.model("headfuse-mha-s");
        // The student: the same weights read as 4 groups of 2 (query head i uses kv head i/2's K and V).
        int layers = teacher.config().numLayers(), heads = teacher.config().numHeads();
        int[][] map = new int[layers][heads];
        for (int[] row : map) for (int h = 0; h < heads; h++) row[h] = 2 * (h / 2);
        try (Checkpoint ckpt = Checkpoints.open(Assets.model("headfuse-mha-s"))) {
            LlamaConfig grouped = ckpt.config().withHeadMaps(map, map);
            try (LlamaModel student = LlamaModel.load(ckpt, grouped, Device.cpu())) {
                ComparisonResult one = Comparison.run(teacher, student, s, o.withBatch(1));
                ComparisonResult four = Comparison.run(teacher, student, s, o.withBatch(4));
                System.out.println("batch 1: " + one + "\nbatch 4: " + four);
                assertTrue(one.meanKl() > 0.01, "the student differs from the teacher");
                assertTrue(Math.abs(four.teacher().ppl() / one.teacher().ppl() - 1) <= 1e-6);
                assertTrue(Math.abs(four.student().ppl() / one.student().ppl() - 1) <= 1e-6);
                assertTrue(Math.abs(four.meanKl() / one.meanKl() - 1) <= 1e-5, four.meanKl() + " vs " + one.meanKl());
                assertEquals(one.top1Agreement(), four.top1Agreement(), 1.0 / one.teacher().tokens());
            }
        }
    }
}
