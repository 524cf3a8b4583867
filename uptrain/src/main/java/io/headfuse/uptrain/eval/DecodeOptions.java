package io.headfuse.uptrain.eval;

/**
 * A decode benchmark's shape: {@code batch} sequences, each prefilled with {@code context} tokens, then
 * {@code newTokens} tokens generated greedily with the kv cache (the first from the prefill's last logits, the
 * rest one forward pass each, as transformers' {@code generate(max_new_tokens=N)} counts them).
 *
 * @param prompt tokens the prompts are cut from (consecutive {@code context}-token slices, wrapping around), or
 *               null for random tokens drawn with {@code seed}
 */
public record DecodeOptions(int batch, int context, int newTokens, long seed, int[] prompt) {
    public DecodeOptions {
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        if (context < 1) throw new IllegalArgumentException("context must be at least 1 token, got " + context);
        if (newTokens < 1) throw new IllegalArgumentException("new tokens must be at least 1, got " + newTokens);
        if (prompt != null && prompt.length == 0) throw new IllegalArgumentException("the prompt text holds no tokens");
    }

    /** Random prompts drawn with {@code seed}. */
    public static DecodeOptions random(int batch, int context, int newTokens, long seed) {
        return new DecodeOptions(batch, context, newTokens, seed, null);
    }
}
