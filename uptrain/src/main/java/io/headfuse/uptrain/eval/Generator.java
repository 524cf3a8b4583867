package io.headfuse.uptrain.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.headfuse.uptrain.model.KvCache;
import io.headfuse.uptrain.model.LlamaModel;
import java.util.Arrays;
import java.util.Random;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;

/**
 * Autoregressive generation with a kv cache: the prompt in one forward pass, then one token per step, each step
 * in its own sub-manager. Stops after {@code maxNew} tokens, at a stop token (not included), or when the
 * sequence reaches the model's {@code max_position_embeddings}.
 */
public final class Generator {
    private Generator() {}

    /** The generated tokens (prompt excluded); {@code onToken} sees each as it is chosen (may be null). */
    public static int[] generate(LlamaModel model, int[] prompt, int maxNew, Sampling sampling, IntPredicate stop, IntConsumer onToken) {
        if (prompt.length == 0) throw new IllegalArgumentException("empty prompt: start with at least BOS");
        int limit = Math.min(maxNew, Math.max(0, model.config().maxPositions() - prompt.length));
        int[] out = new int[limit];
        int n = 0;
        Random random = new Random(sampling.seed());
        try (KvCache cache = model.newCache(Math.max(1, prompt.length + limit))) {
            int[] step = prompt;
            while (n < limit) {
                float[] logits;
                try (NDManager sub = model.manager().newSubManager()) {
                    NDArray all = model.forward(LlamaModel.tokens(sub, step), cache, io.headfuse.uptrain.model.ForwardTap.NONE);
                    logits = all.get(0, step.length - 1).toFloatArray();
                }
                int next = choose(logits, sampling, random);
                if (stop != null && stop.test(next)) break;
                out[n++] = next;
                if (onToken != null) onToken.accept(next);
                step = new int[] {next};
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** Greedy from {@code prompt}, no stop token. */
    public static int[] greedy(LlamaModel model, int[] prompt, int maxNew) {
        return generate(model, prompt, maxNew, Sampling.greedy(), null, null);
    }

    static int choose(float[] logits, Sampling s, Random random) {
        if (s.isGreedy()) return argMax(logits);
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp((logits[i] - max) / s.temperature());
        Integer[] order = null;
        int count = p.length;
        if (s.topP() < 1) {
            order = new Integer[p.length];
            for (int i = 0; i < order.length; i++) order[i] = i;
            Arrays.sort(order, (a, b) -> Double.compare(p[b], p[a]));
            double acc = 0;
            count = 0;
            while (count < order.length && acc < s.topP() * sum) acc += p[order[count++]];
            sum = acc;
        }
        double r = random.nextDouble() * sum;
        for (int i = 0; i < count; i++) {
            int id = order == null ? i : order[i];
            r -= p[id];
            if (r < 0) return id;
        }
        return order == null ? count - 1 : order[count - 1];
    }

    static int argMax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
