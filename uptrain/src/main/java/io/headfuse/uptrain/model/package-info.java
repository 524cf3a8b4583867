/**
 * The Llama runtime on DJL's PyTorch engine.
 *
 * <pre>{@code
 * try (LlamaModel m = LlamaModel.load(Path.of("models/headfuse-mha-s"), TorchRuntime.device("cpu"))) {
 *     float[][] logits = m.logits(ids);                       // [T][vocab]
 *     try (NDManager sub = m.manager().newSubManager()) {      // one per window / step: memory stays flat
 *         NDArray out = m.forward(LlamaModel.tokens(sub, ids));  // [1, T, vocab], on the model's device
 *     }
 *     m.calibrate(windows, stats);                             // X^T X of each layer's attention input
 * }
 * }</pre>
 *
 * Weights are fp32 NDArrays in {@link io.headfuse.uptrain.model.LlamaWeights} (setRequiresGradient to train);
 * {@link io.headfuse.uptrain.model.KvHeadMaps} says which kv head each query head reads, per layer, for K and V;
 * {@link io.headfuse.uptrain.model.TorchRuntime} starts the engine (offline, TF32 on GPU).
 */
package io.headfuse.uptrain.model;
