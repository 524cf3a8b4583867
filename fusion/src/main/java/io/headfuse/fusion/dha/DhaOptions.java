package io.headfuse.fusion.dha;

import io.headfuse.fusion.asym.HeadSimilarity;
import io.headfuse.fusion.asym.LinearCka;
import io.headfuse.fusion.StrategyOptions;
import java.nio.file.Path;
import java.util.List;

/**
 * Settings of the DHA strategy (decoupled-head attention, Chen et al. 2024), validated on construction. The budget
 * (kv heads per layer on average, for K and for V: the KV bytes of uniform GQA with that many kv heads) comes with
 * each request, as for the other strategies; {@link #check} validates it against the per-layer range.
 *
 * @param minHeads    fewest K (or V) heads a layer may keep (at least 1)
 * @param maxHeads    most K (or V) heads a layer may keep; 0 means the model's head count (with the loss
 *                    difficulty, at most 2 x the budget, which bounds the number of probes)
 * @param coupled     K and V of a layer share one grouping, hence one count (budgets still differ per layer);
 *                    false gives K and V their own groupings and counts
 * @param difficulty  what a count is priced by: the rise of the calibration loss when the layer is collapsed to it
 *                    (runs the model, one probe per layer and count), or asym's relative reconstruction error
 *                    (statistics only)
 * @param probeTokens calibration tokens each loss probe evaluates
 * @param similarity  head similarity drawn in the heatmaps (grouping itself minimises the reconstruction error)
 * @param seed        seeds the swap search of {@code uniform}; the DHA plan (Ward merges, probes, an exact dynamic
 *                    programme) has no randomness, so any seed gives the same one
 * @param uniform     export the nearest uniform layout instead: the budget's heads in every layer, K and V
 *                    grouped alike (asym {@code --align --lsq --coupled}), a standard GQA checkpoint transformers loads
 * @param data        training text of the learned fusion (empty: groups collapse zero-shot, as planned)
 * @param fusionTokens tokens the learned fusion trains on
 * @param device      where the learned fusion trains ({@code cpu}, {@code gpu}, {@code gpu:N})
 * @param fusionRecipe how the learned fusion trains: window, windows per step, learning rates, rho, multiplier interval
 */
public record DhaOptions(int minHeads, int maxHeads, boolean coupled, Difficulty difficulty, int probeTokens,
                         HeadSimilarity similarity, long seed, boolean uniform,
                         List<Path> data, long fusionTokens, String device, FusionRecipe fusionRecipe) implements StrategyOptions {
    public enum Difficulty { LOSS, RECONSTRUCTION }

    public static final int DEFAULT_PROBE_TOKENS = 2048;
    public static final long DEFAULT_FUSION_TOKENS = 65_536;

    public DhaOptions {
        if (minHeads < 1) throw new IllegalArgumentException("DHA min heads per layer must be at least 1, got " + minHeads);
        if (maxHeads < 0) throw new IllegalArgumentException("DHA max heads per layer must be positive (or 0 for all heads), got " + maxHeads);
        if (maxHeads > 0 && maxHeads < minHeads) throw new IllegalArgumentException("DHA max heads " + maxHeads + " is below min heads " + minHeads);
        if (difficulty == null) throw new IllegalArgumentException("DHA difficulty must be given");
        if (probeTokens < 2) throw new IllegalArgumentException("--probe-tokens must be at least 2, got " + probeTokens);
        if (similarity == null) throw new IllegalArgumentException("DHA similarity must be given");
        data = List.copyOf(data);
        if (fusionTokens <= 0) throw new IllegalArgumentException("--tokens must be positive, got " + fusionTokens);
        if (device == null) throw new IllegalArgumentException("DHA fusion device must be given");
        if (fusionRecipe == null) throw new IllegalArgumentException("DHA fusion recipe must be given");
        if (uniform && !data.isEmpty()) throw new IllegalArgumentException("--uniform exports asym's layout: learned fusion (--data) does not apply");
    }

    /** True when groups are fused by training ({@code --data}) before they collapse. */
    public boolean learned() { return !data.isEmpty(); }

    @Override public String strategy() { return DhaStrategy.NAME; }

    /** Coupled K/V per layer, priced by calibration loss, counts in [1, 2N], CKA heatmaps, seed 0. */
    public static DhaOptions defaults() {
        return new DhaOptions(1, 0, true, Difficulty.LOSS, DEFAULT_PROBE_TOKENS, new LinearCka(), 0, false, List.of(), DEFAULT_FUSION_TOKENS, "cpu", FusionRecipe.defaults());
    }

    public DhaOptions withSeed(long s) { return new DhaOptions(minHeads, maxHeads, coupled, difficulty, probeTokens, similarity, s, uniform, data, fusionTokens, device, fusionRecipe); }

    public DhaOptions withUniform(boolean u) { return new DhaOptions(minHeads, maxHeads, coupled, difficulty, probeTokens, similarity, seed, u, data, fusionTokens, device, fusionRecipe); }

    public DhaOptions withRange(int min, int max) { return new DhaOptions(min, max, coupled, difficulty, probeTokens, similarity, seed, uniform, data, fusionTokens, device, fusionRecipe); }

    public DhaOptions withCoupled(boolean c) { return new DhaOptions(minHeads, maxHeads, c, difficulty, probeTokens, similarity, seed, uniform, data, fusionTokens, device, fusionRecipe); }

    public DhaOptions withDifficulty(Difficulty d) { return new DhaOptions(minHeads, maxHeads, coupled, d, probeTokens, similarity, seed, uniform, data, fusionTokens, device, fusionRecipe); }

    public DhaOptions withProbeTokens(int t) { return new DhaOptions(minHeads, maxHeads, coupled, difficulty, t, similarity, seed, uniform, data, fusionTokens, device, fusionRecipe); }

    public DhaOptions withSimilarity(HeadSimilarity s) { return new DhaOptions(minHeads, maxHeads, coupled, difficulty, probeTokens, s, seed, uniform, data, fusionTokens, device, fusionRecipe); }

    /** Learned fusion on {@code files} for {@code tokens} tokens on {@code dev} (files empty: zero-shot collapse). */
    public DhaOptions withFusion(List<Path> files, long tokens, String dev) {
        return new DhaOptions(minHeads, maxHeads, coupled, difficulty, probeTokens, similarity, seed, uniform, files, tokens, dev, fusionRecipe);
    }

    /** Learned fusion trained as {@code r} says (the defaults: {@link FusionRecipe#defaults}). */
    public DhaOptions withFusionRecipe(FusionRecipe r) {
        return new DhaOptions(minHeads, maxHeads, coupled, difficulty, probeTokens, similarity, seed, uniform, data, fusionTokens, device, r);
    }

    /**
     * Refuses learned-fusion settings that do not fit a model with {@code maxPositions} positions: a window longer
     * than them, or a budget of fewer tokens than one step. Checked before anything is loaded.
     */
    public void checkFusion(int maxPositions) {
        if (learned()) fusionRecipe.requireOneStep(fusionTokens, maxPositions);
    }

    /** The most heads a (layer, type) may keep in a model with {@code heads} heads under a budget of {@code kvHeads}. */
    public int maxHeads(int heads, int kvHeads) {
        int max = maxHeads == 0 ? heads : Math.min(maxHeads, heads);
        return difficulty == Difficulty.LOSS ? Math.min(max, 2 * kvHeads) : max;
    }

    /** Refuses a budget of {@code kvHeads} outside the per-layer range of a model with {@code heads} heads. */
    public void check(int heads, int kvHeads) {
        if (kvHeads > heads) throw new IllegalArgumentException("DHA budget of " + kvHeads + " kv heads exceeds the model's " + heads + " heads per layer");
        if (kvHeads < minHeads || kvHeads > maxHeads(heads, kvHeads))
            throw new IllegalArgumentException("DHA budget of " + kvHeads + " kv heads is outside the per-layer range [" + minHeads + ", "
                    + maxHeads(heads, kvHeads) + "]");
    }

    /** e.g. "dha kv=2 coupled, counts in [1, 4] by calibration loss (2048-token probes), Ward groups +align +lsq". */
    public String describe(int heads, int kvHeads) {
        return uniform ? "dha kv=" + kvHeads + " uniform (asym +align +lsq coupled, seed=" + seed + ")"
                : "dha kv=" + kvHeads + (coupled ? " coupled" : " decoupled") + ", counts in [" + minHeads + ", " + maxHeads(heads, kvHeads) + "] by "
                  + (difficulty == Difficulty.LOSS ? "calibration loss (" + probeTokens + "-token probes)" : "reconstruction error")
                  + ", Ward groups +align" + (learned() ? ", learned fusion (" + fusionTokens + " tokens), then +lsq" : " +lsq");
    }
}
