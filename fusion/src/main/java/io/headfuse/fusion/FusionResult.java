package io.headfuse.fusion;

import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.TensorSource;
import java.util.Map;

/**
 * The rewritten model: its config (kv head count, maybe per-layer head maps) and the tensors that replace the
 * input's (by name; every other tensor passes through untouched). Replacements are usually computed lazily.
 */
public record FusionResult(LlamaConfig config, Map<String, TensorSource> replacements, FusionPlan plan) {
    public FusionResult { replacements = Map.copyOf(replacements); }

    /** {@code inputs} in their order, each replaced where the strategy rewrote it: the converted model's tensors. */
    public java.util.List<TensorSource> applyTo(java.util.List<TensorSource> inputs) {
        return inputs.stream().map(t -> replacements.getOrDefault(t.name(), t)).toList();
    }
}
