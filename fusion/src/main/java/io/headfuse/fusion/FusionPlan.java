package io.headfuse.fusion;

import java.util.List;
import java.util.Map;

/** A strategy's decision for every layer, plus strategy-specific details for the report (JSON-friendly values). */
public record FusionPlan(String strategy, int heads, int kvHeads, List<LayerPlan> layers, Map<String, Object> details) {
    public FusionPlan {
        layers = List.copyOf(layers);
        details = Map.copyOf(details);
    }

    /** True when every layer groups K and V alike (the result loads in plain transformers). */
    public boolean coupled() { return layers.stream().allMatch(LayerPlan::coupled); }
}
