package io.headfuse.fusion.dha;

import io.headfuse.fusion.asym.HeadSimilarity;
import io.headfuse.fusion.asym.LinearCka;
import java.util.Locale;
import java.util.Map;

/**
 * Settings of the DHA strategy (decoupled-head attention, Chen et al. 2024), validated on construction.
 *
 * @param kvHeads     the budget: kv heads per layer on average, for K and for V (the KV bytes of uniform GQA with
 *                    this many kv heads)
 * @param minHeads    fewest K (or V) heads a layer may keep (at least 1)
 * @param maxHeads    most K (or V) heads a layer may keep; 0 means the model's head count (with the loss
 *                    difficulty, at most 2 x kvHeads, which bounds the number of probes)
 * @param coupled     K and V of a layer share one grouping, hence one count (budgets still differ per layer);
 *                    false gives K and V their own groupings and counts
 * @param difficulty  what a count is priced by: the rise of the calibration loss when the layer is collapsed to it
 *                    (runs the model, one probe per layer and count), or asym's relative reconstruction error
 *                    (statistics only)
 * @param probeTokens calibration tokens each loss probe evaluates
 * @param similarity  head similarity drawn in the heatmaps (grouping itself minimises the reconstruction error)
 * @param seed        seeds the swap search of {@code uniform}; the DHA plan (Ward merges, probes, an exact dynamic
 *                    programme) has no randomness, so any seed gives the same one
 * @param uniform     export the nearest uniform layout instead: {@code kvHeads} heads in every layer, K and V
 *                    grouped alike (asym {@code --align --lsq --coupled}), a standard GQA checkpoint transformers loads
 */
public record DhaOptions(int kvHeads, int minHeads, int maxHeads, boolean coupled, Difficulty difficulty, int probeTokens,
                         HeadSimilarity similarity, long seed, boolean uniform) {
    public enum Difficulty { LOSS, RECONSTRUCTION }

    public static final int DEFAULT_PROBE_TOKENS = 2048;

    public DhaOptions {
        if (kvHeads <= 0) throw new IllegalArgumentException("DHA budget --kv-heads must be positive, got " + kvHeads);
        if (minHeads < 1) throw new IllegalArgumentException("DHA min heads per layer must be at least 1, got " + minHeads);
        if (maxHeads < 0) throw new IllegalArgumentException("DHA max heads per layer must be positive (or 0 for all heads), got " + maxHeads);
        if (maxHeads > 0 && maxHeads < minHeads) throw new IllegalArgumentException("DHA max heads " + maxHeads + " is below min heads " + minHeads);
        if (kvHeads < minHeads || (maxHeads > 0 && kvHeads > maxHeads))
            throw new IllegalArgumentException("DHA budget of " + kvHeads + " kv heads is outside the per-layer range [" + minHeads + ", "
                    + (maxHeads == 0 ? "heads" : maxHeads) + "]");
        if (difficulty == null) throw new IllegalArgumentException("DHA difficulty must be given");
        if (probeTokens < 2) throw new IllegalArgumentException("DHA probe tokens must be at least 2, got " + probeTokens);
        if (similarity == null) throw new IllegalArgumentException("DHA similarity must be given");
    }

    /** Budget N, coupled K/V per layer, priced by calibration loss, counts in [1, 2N], CKA heatmaps, seed 0. */
    public static DhaOptions defaults(int kvHeads) {
        return new DhaOptions(kvHeads, 1, 0, true, Difficulty.LOSS, DEFAULT_PROBE_TOKENS, new LinearCka(), 0, false);
    }

    public DhaOptions withSeed(long s) { return new DhaOptions(kvHeads, minHeads, maxHeads, coupled, difficulty, probeTokens, similarity, s, uniform); }

    public DhaOptions withUniform(boolean u) { return new DhaOptions(kvHeads, minHeads, maxHeads, coupled, difficulty, probeTokens, similarity, seed, u); }

    public DhaOptions withRange(int min, int max) { return new DhaOptions(kvHeads, min, max, coupled, difficulty, probeTokens, similarity, seed, uniform); }

    public DhaOptions withCoupled(boolean c) { return new DhaOptions(kvHeads, minHeads, maxHeads, c, difficulty, probeTokens, similarity, seed, uniform); }

    public DhaOptions withDifficulty(Difficulty d) { return new DhaOptions(kvHeads, minHeads, maxHeads, coupled, d, probeTokens, similarity, seed, uniform); }

    public DhaOptions withProbeTokens(int t) { return new DhaOptions(kvHeads, minHeads, maxHeads, coupled, difficulty, t, similarity, seed, uniform); }

    public DhaOptions withSimilarity(HeadSimilarity s) { return new DhaOptions(kvHeads, minHeads, maxHeads, coupled, difficulty, probeTokens, s, seed, uniform); }

    /** The most heads a (layer, type) may keep in a model with {@code heads} heads. */
    public int maxHeads(int heads) {
        int max = maxHeads == 0 ? heads : Math.min(maxHeads, heads);
        return difficulty == Difficulty.LOSS ? Math.min(max, 2 * kvHeads) : max;
    }

    /**
     * Adapter from the pipeline's string settings (seed, uniform, similarity, dha_decoupled, dha_difficulty,
     * dha_probe_tokens, dha_min_heads, dha_max_heads), kept in one place so it can be replaced by a typed options
     * registry without touching the strategy.
     */
    public static DhaOptions fromSettings(int kvHeads, Map<String, String> s) {
        DhaOptions o = defaults(kvHeads);
        try {
            return new DhaOptions(kvHeads,
                    s.containsKey("dha_min_heads") ? Integer.parseInt(s.get("dha_min_heads")) : o.minHeads,
                    s.containsKey("dha_max_heads") ? Integer.parseInt(s.get("dha_max_heads")) : o.maxHeads,
                    !Boolean.parseBoolean(s.getOrDefault("dha_decoupled", "false")),
                    s.containsKey("dha_difficulty") ? Difficulty.valueOf(s.get("dha_difficulty").toUpperCase(Locale.ROOT)) : o.difficulty,
                    s.containsKey("dha_probe_tokens") ? Integer.parseInt(s.get("dha_probe_tokens")) : o.probeTokens,
                    s.containsKey("similarity") ? HeadSimilarity.byName(s.get("similarity").toLowerCase(Locale.ROOT)) : o.similarity,
                    s.containsKey("seed") ? Long.parseLong(s.get("seed")) : o.seed,
                    Boolean.parseBoolean(s.getOrDefault("uniform", "false")));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("DHA setting is not a whole number: " + e.getMessage());
        }
    }

    /** e.g. "dha kv=2 coupled, counts in [1, 4] by calibration loss (2048-token probes), Ward groups +align +lsq". */
    public String describe(int heads) {
        return uniform ? "dha kv=" + kvHeads + " uniform (asym +align +lsq coupled, seed=" + seed + ")"
                : "dha kv=" + kvHeads + (coupled ? " coupled" : " decoupled") + ", counts in [" + minHeads + ", " + maxHeads(heads) + "] by "
                  + (difficulty == Difficulty.LOSS ? "calibration loss (" + probeTokens + "-token probes)" : "reconstruction error")
                  + ", Ward groups +align +lsq";
    }
}
