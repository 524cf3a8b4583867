package io.headfuse.uptrain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.uptrain.eval.Generator;
import io.headfuse.uptrain.eval.Sampling;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class GeneratorTest {
    @Test
    void cachedDecodingMatchesFullForward() {
        LlamaModel m = SharedModels.model("headfuse-mha-s");
        TextTokenizer tok = SharedModels.tokenizer("headfuse-mha-s");
        int[] prompt = tok.encode("The President said that the", true);
        int[] out = Generator.greedy(m, prompt, 12);
        assertEquals(12, out.length, "no stop token: all 12 tokens come out");
        int[] all = Arrays.copyOf(prompt, prompt.length + out.length);
        System.arraycopy(out, 0, all, prompt.length, out.length);
        float[][] logits = m.logits(all);
        for (int i = 0; i < out.length; i++) {
            float[] row = logits[prompt.length - 1 + i];
            int best = 0;
            for (int v = 1; v < row.length; v++) if (row[v] > row[best]) best = v;
            assertEquals(best, out[i], "token " + i);
        }
        System.out.println("headfuse-mha-s: " + tok.decode(all));
    }

    @Test
    void samplingIsSeeded() {
        LlamaModel m = SharedModels.model("stories260K-mha-hf");
        int[] a = Generator.generate(m, new int[] {1}, 30, Sampling.of(1.0, 42), null, null);
        int[] b = Generator.generate(m, new int[] {1}, 30, Sampling.of(1.0, 42), null, null);
        int[] c = Generator.generate(m, new int[] {1}, 30, Sampling.of(1.0, 43), null, null);
        assertEquals(30, a.length);
        assertEquals(30, c.length);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));
        int[] top = Generator.generate(m, new int[] {1}, 30, new Sampling(1.0, 0.01, 5), null, null);
        assertEquals(30, top.length);
        assertArrayEquals(Generator.greedy(m, new int[] {1}, 30), top, "top-p that keeps only the best token is greedy");
    }

    @Test
    void stopsAtStopTokenAndContextEnd() {
        LlamaModel m = SharedModels.model("stories260K-mha-hf");
        int[] greedy = Generator.greedy(m, new int[] {1}, 20);
        assertEquals(20, greedy.length);
        int stopAt = greedy[5];
        int first = 0;
        while (greedy[first] != stopAt) first++; // the stop token may come earlier than index 5
        int[] stopped = Generator.generate(m, new int[] {1}, 20, Sampling.greedy(), t -> t == stopAt, null);
        assertArrayEquals(Arrays.copyOf(greedy, first), stopped, "the greedy tokens up to the stop token, which is left out");
        assertEquals(m.config().maxPositions() - 1, Generator.greedy(m, new int[] {1}, 10_000).length);
    }
}
