package io.headfuse.fusion.asym;

/**
 * A layer after conversion: q_proj and o_proj keep one block per query head (possibly reordered and rotated),
 * k_proj and v_proj hold {@code kvHeads} pooled heads, and the maps say which kv head each query head reads.
 * When {@link #standard()} the maps are transformers' contiguous ones and the layer is plain GQA.
 */
public record FusedLayer(float[] q, float[] k, float[] v, float[] o, int[] kMap, int[] vMap, int[] queryOrder, int kvHeads) implements io.headfuse.fusion.LazyAttention.Projections {

    /** True when both maps are h -> h / (heads / kvHeads). */
    public boolean standard() {
        int n = kMap.length;
        if (n % kvHeads != 0) return false;
        for (int h = 0; h < n; h++) if (kMap[h] != h / (n / kvHeads) || vMap[h] != h / (n / kvHeads)) return false;
        return true;
    }
}
