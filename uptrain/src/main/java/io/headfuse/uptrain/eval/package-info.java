/**
 * Measuring models: {@link io.headfuse.uptrain.eval.Perplexity} (assets/README.md convention, word- and
 * byte-level perplexity, tokens/s), {@link io.headfuse.uptrain.eval.Comparison} (teacher vs student: both
 * perplexities and KL(teacher || student)) and {@link io.headfuse.uptrain.eval.Generator} (greedy or sampled,
 * with a kv cache).
 */
package io.headfuse.uptrain.eval;
