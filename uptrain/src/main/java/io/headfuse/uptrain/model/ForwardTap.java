package io.headfuse.uptrain.model;

import ai.djl.ndarray.NDArray;

/**
 * Observes intermediate activations of a forward pass (calibration statistics, activation-informed grouping).
 * The arrays belong to the forward's manager and are closed with it: copy out what must outlive the call.
 * Shapes are for a batch of B sequences of T tokens.
 */
public interface ForwardTap {
    ForwardTap NONE = new ForwardTap() {};

    /** The attention input of {@code layer}: the output of its input_layernorm, [B, T, hidden]. */
    default void attentionInput(int layer, NDArray x) {}

    /** The layer's keys and values before RoPE and before the kv head gather: [B, kvHeads, T, headDim] each. */
    default void keysValues(int layer, NDArray k, NDArray v) {}
}
