package io.headfuse.uptrain.eval;

import ai.djl.Device;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.uptrain.model.DeviceMemory;

/**
 * The default evaluation batch: 1 on the CPU (batching buys nothing there but memory), and on a GPU as many
 * windows as fit a memory bound. A window's forward pass at its widest holds, per sequence, the logits and their
 * log-softmax (2 x T x vocab), the attention scores and their softmax (2 x heads x T^2) and the MLP's three
 * intermediate activations (3 x T x ffn), all fp32. The bound is a quarter of the device's free memory (the rest
 * is headroom for the allocator and the other model of a comparison), 8 GiB where free memory cannot be read;
 * the batch is capped at 64 windows and 32,768 tokens, past which a GPU gains nothing more from batching.
 */
public final class BatchSize {
    static final long FALLBACK_BUDGET = 8L << 30;
    static final int MAX_BATCH = 64;
    static final long MAX_TOKENS = 32_768;

    private BatchSize() {}

    /** {@code requested} when positive, else the device's default for windows of {@code window} tokens. */
    public static int resolve(int requested, LlamaConfig config, int window, Device device) {
        if (requested > 0) return requested;
        if (!device.isGpu()) return 1;
        long budget = DeviceMemory.free(device).orElse(4 * FALLBACK_BUDGET) / 4;
        return forBudget(config, window, budget);
    }

    /** The largest batch whose activations stay under {@code budgetBytes}, within the caps (at least 1). */
    static int forBudget(LlamaConfig config, int window, long budgetBytes) {
        long t = window;
        long perSequence = 4L * (2 * t * config.vocabSize() + 2L * config.numHeads() * t * t + 3 * t * config.intermediateSize());
        long b = Math.min(budgetBytes / perSequence, Math.min(MAX_BATCH, MAX_TOKENS / t));
        return (int) Math.max(1, b);
    }
}
