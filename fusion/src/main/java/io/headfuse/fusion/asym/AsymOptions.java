package io.headfuse.fusion.asym;

/**
 * Settings of the asym strategy.
 *
 * @param kvHeads      kv heads per layer after conversion
 * @param objective    what the grouping search minimises
 * @param similarity   head similarity for the similarity objective and the heatmaps
 * @param search       equal-size swaps, or Ward merges (unequal sizes: the result needs headfuse's head maps)
 * @param seed         seeds the random restarts of the swap search; same seed, same groups
 * @param restarts     starts of the swap search (the first is always the contiguous grouping)
 * @param align        rotate heads into agreement before pooling
 * @param leastSquares pool by least squares on the metric instead of the mean
 * @param coupled      one grouping for K and V (HF-loadable when sizes are equal)
 * @param weighted     measure reconstruction errors through the model (query for K, o_proj for V) rather than
 *                     on the raw activations
 */
public record AsymOptions(int kvHeads, Objective objective, HeadSimilarity similarity, Search search, long seed,
                          int restarts, boolean align, boolean leastSquares, boolean coupled, boolean weighted) {

    public enum Objective { RECONSTRUCTION, SIMILARITY }

    public enum Search { SWAPS, WARD }

    /** The CLI's default ({@code --seed 0}). */
    public static final long DEFAULT_SEED = 0;
    public static final int DEFAULT_RESTARTS = 8;

    public AsymOptions {
        if (kvHeads <= 0) throw new IllegalArgumentException("kv heads must be positive, got " + kvHeads);
        if (restarts <= 0) throw new IllegalArgumentException("restarts must be positive, got " + restarts);
    }

    /** Reconstruction objective, cosine heatmaps, swap search, no alignment, mean pooling, K and V decoupled. */
    public static AsymOptions defaults(int kvHeads) {
        return new AsymOptions(kvHeads, Objective.RECONSTRUCTION, new Cosine(), Search.SWAPS, DEFAULT_SEED,
                DEFAULT_RESTARTS, false, false, false, true);
    }

    public AsymOptions withAlign(boolean a) { return new AsymOptions(kvHeads, objective, similarity, search, seed, restarts, a, leastSquares, coupled, weighted); }

    public AsymOptions withLeastSquares(boolean l) { return new AsymOptions(kvHeads, objective, similarity, search, seed, restarts, align, l, coupled, weighted); }

    public AsymOptions withCoupled(boolean c) { return new AsymOptions(kvHeads, objective, similarity, search, seed, restarts, align, leastSquares, c, weighted); }

    public AsymOptions withSeed(long s) { return new AsymOptions(kvHeads, objective, similarity, search, s, restarts, align, leastSquares, coupled, weighted); }

    public AsymOptions withObjective(Objective o) { return new AsymOptions(kvHeads, o, similarity, search, seed, restarts, align, leastSquares, coupled, weighted); }

    public AsymOptions withSimilarity(HeadSimilarity s) { return new AsymOptions(kvHeads, objective, s, search, seed, restarts, align, leastSquares, coupled, weighted); }

    public AsymOptions withSearch(Search s) { return new AsymOptions(kvHeads, objective, similarity, s, seed, restarts, align, leastSquares, coupled, weighted); }

    public AsymOptions withRestarts(int r) { return new AsymOptions(kvHeads, objective, similarity, search, seed, r, align, leastSquares, coupled, weighted); }

    public AsymOptions withWeighted(boolean w) { return new AsymOptions(kvHeads, objective, similarity, search, seed, restarts, align, leastSquares, coupled, w); }

    /** How each group is merged. */
    public GroupFit.Method method() {
        return new GroupFit.Method(align, leastSquares ? Pooling.LEAST_SQUARES : Pooling.MEAN, weighted);
    }

    /** A short description, e.g. "asym kv=4 reconstruction swaps seed=24301 +align +lsq coupled". */
    public String describe() {
        return "asym kv=" + kvHeads + " " + objective.name().toLowerCase() + (objective == Objective.SIMILARITY ? "(" + similarity.name() + ")" : "")
                + " " + search.name().toLowerCase() + (search == Search.SWAPS ? " seed=" + seed + " restarts=" + restarts : "")
                + (align ? " +align" : "") + (leastSquares ? " +lsq" : "") + (coupled ? " coupled" : " decoupled")
                + (weighted ? "" : " unweighted");
    }
}
