package io.headfuse.fusion.dha;

import io.headfuse.fusion.asym.HeadSimilarity;
import io.headfuse.fusion.asym.LinearCka;
import java.util.Locale;
import java.util.Map;

/**
 * Settings of the DHA strategy (decoupled-head attention, Chen et al. 2024), validated on construction.
 *
 * @param kvHeads    the budget: kv heads per layer on average, for K and for V (the KV bytes of uniform GQA with
 *                   this many kv heads); every (layer, type) gets between {@code minHeads} and {@code maxHeads}
 * @param minHeads   fewest K (or V) heads a layer may keep (at least 1)
 * @param maxHeads   most K (or V) heads a layer may keep; 0 means the model's head count
 * @param similarity head similarity drawn in the heatmaps (grouping itself minimises the reconstruction error)
 * @param seed       seeds the swap search of {@code --uniform}; the allocation (Ward merges and an exact dynamic
 *                   programme) has no randomness, so any seed gives the same DHA plan
 * @param uniform    export the nearest uniform layout instead: {@code kvHeads} heads in every layer, K and V
 *                   grouped alike (asym {@code --align --lsq --coupled}), a standard GQA checkpoint transformers loads
 */
public record DhaOptions(int kvHeads, int minHeads, int maxHeads, HeadSimilarity similarity, long seed, boolean uniform) {
    public DhaOptions {
        if (kvHeads <= 0) throw new IllegalArgumentException("DHA budget --kv-heads must be positive, got " + kvHeads);
        if (minHeads < 1) throw new IllegalArgumentException("DHA min heads per layer must be at least 1, got " + minHeads);
        if (maxHeads < 0) throw new IllegalArgumentException("DHA max heads per layer must be positive (or 0 for all heads), got " + maxHeads);
        if (maxHeads > 0 && maxHeads < minHeads) throw new IllegalArgumentException("DHA max heads " + maxHeads + " is below min heads " + minHeads);
        if (kvHeads < minHeads || (maxHeads > 0 && kvHeads > maxHeads))
            throw new IllegalArgumentException("DHA budget of " + kvHeads + " kv heads is outside the per-layer range [" + minHeads + ", "
                    + (maxHeads == 0 ? "heads" : maxHeads) + "]");
        if (similarity == null) throw new IllegalArgumentException("DHA similarity must be given");
    }

    /** Budget N, counts anywhere in [1, heads], CKA heatmaps, seed 0, per-layer layout. */
    public static DhaOptions defaults(int kvHeads) { return new DhaOptions(kvHeads, 1, 0, new LinearCka(), 0, false); }

    public DhaOptions withSeed(long s) { return new DhaOptions(kvHeads, minHeads, maxHeads, similarity, s, uniform); }

    public DhaOptions withUniform(boolean u) { return new DhaOptions(kvHeads, minHeads, maxHeads, similarity, seed, u); }

    public DhaOptions withRange(int min, int max) { return new DhaOptions(kvHeads, min, max, similarity, seed, uniform); }

    public DhaOptions withSimilarity(HeadSimilarity s) { return new DhaOptions(kvHeads, minHeads, maxHeads, s, seed, uniform); }

    /** The most heads a (layer, type) may keep in a model with {@code heads} heads. */
    public int maxHeads(int heads) { return maxHeads == 0 ? heads : Math.min(maxHeads, heads); }

    /**
     * Adapter from the pipeline's string settings (seed, uniform, similarity, dha_min_heads, dha_max_heads), kept
     * in one place so it can be replaced by a typed options registry without touching the strategy.
     */
    public static DhaOptions fromSettings(int kvHeads, Map<String, String> s) {
        DhaOptions o = defaults(kvHeads);
        try {
            return new DhaOptions(kvHeads,
                    s.containsKey("dha_min_heads") ? Integer.parseInt(s.get("dha_min_heads")) : o.minHeads,
                    s.containsKey("dha_max_heads") ? Integer.parseInt(s.get("dha_max_heads")) : o.maxHeads,
                    s.containsKey("similarity") ? HeadSimilarity.byName(s.get("similarity").toLowerCase(Locale.ROOT)) : o.similarity,
                    s.containsKey("seed") ? Long.parseLong(s.get("seed")) : o.seed,
                    Boolean.parseBoolean(s.getOrDefault("uniform", "false")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("DHA setting is not a whole number: " + e.getMessage());
        }
    }

    /** e.g. "dha kv=2 (per-layer K/V budgets in [1, 8]) +align +lsq". */
    public String describe(int heads) {
        return uniform ? "dha kv=" + kvHeads + " uniform (asym +align +lsq coupled, seed=" + seed + ")"
                : "dha kv=" + kvHeads + " (per-layer K/V budgets in [" + minHeads + ", " + maxHeads(heads) + "], Ward groups) +align +lsq";
    }
}
