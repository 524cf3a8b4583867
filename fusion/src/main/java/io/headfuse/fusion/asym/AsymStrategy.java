package io.headfuse.fusion.asym;

import io.headfuse.fusion.LazyAttention;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionRequest;
import io.headfuse.fusion.FusionResult;
import io.headfuse.fusion.FusionStrategy;
import io.headfuse.fusion.LayerPlan;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * AsymGQA: which heads share a kv head is chosen per layer, separately for K and V, from what the heads compute
 * on calibration text; optionally heads are aligned before merging and pooled by least squares. When K and V share
 * equal-size groups in every layer the query heads are permuted so groups are contiguous and the result is a
 * standard GQA checkpoint; otherwise config.json carries headfuse's per-layer K/V head maps.
 *
 * <p>{@link #plan} keeps, in {@link FusionPlan#details()}, the similarity matrices and reconstruction errors of
 * every layer (keys {@link #LAYERS}, then {@code k_similarity}, {@code v_similarity}, ...), which the report's
 * heatmaps draw.
 */
public final class AsymStrategy implements FusionStrategy {
    public static final String NAME = "asym";
    /** Detail key: one map per layer. */
    public static final String LAYERS = "layers";
    public static final String SIMILARITY = "similarity";

    /**
     * The strategy's options: everything but the kv head count, which comes with each request. Validated here.
     * The defaults are the best variant that plain transformers loads: aligned, least-squares pooled, K and V
     * coupled (issue 7: asym without them is barely better than mean-pooling).
     *
     * @param similarity null picks CKA when aligning (rotation-invariant, like the merge) and cosine otherwise
     */
    public record Settings(AsymOptions.Objective objective, HeadSimilarity similarity, AsymOptions.Search search, long seed,
                           int restarts, boolean align, boolean leastSquares, boolean coupled, boolean weighted)
            implements io.headfuse.fusion.StrategyOptions {
        public Settings {
            java.util.Objects.requireNonNull(objective, "objective");
            java.util.Objects.requireNonNull(search, "search");
            if (restarts <= 0) throw new IllegalArgumentException("restarts must be positive, got " + restarts);
        }

        @Override public String strategy() { return NAME; }

        /** Reconstruction objective, swap search, aligned, least squares, coupled. */
        public static Settings defaults() {
            AsymOptions d = AsymOptions.defaults(1);
            return new Settings(d.objective(), null, d.search(), d.seed(), d.restarts(), true, true, true, true);
        }

        public Settings with(boolean align, boolean leastSquares, boolean coupled, long seed) {
            return new Settings(objective, similarity, search, seed, restarts, align, leastSquares, coupled, weighted);
        }

        public Settings withObjective(AsymOptions.Objective o) { return new Settings(o, similarity, search, seed, restarts, align, leastSquares, coupled, weighted); }

        public Settings withSimilarity(HeadSimilarity s) { return new Settings(objective, s, search, seed, restarts, align, leastSquares, coupled, weighted); }

        public Settings withSearch(AsymOptions.Search s) { return new Settings(objective, similarity, s, seed, restarts, align, leastSquares, coupled, weighted); }

        /** Starts of the swap search (the first is the contiguous grouping): fewer is faster and may find worse groups. */
        public Settings withRestarts(int r) { return new Settings(objective, similarity, search, seed, r, align, leastSquares, coupled, weighted); }

        /** The similarity actually used: the chosen one, or CKA when aligning and cosine otherwise. */
        public HeadSimilarity effectiveSimilarity() { return similarity != null ? similarity : align ? new LinearCka() : new Cosine(); }

        public AsymOptions options(int kvHeads) {
            return new AsymOptions(kvHeads, objective, effectiveSimilarity(), search, seed, restarts, align, leastSquares, coupled, weighted);
        }
    }

    private final Settings settings;
    /**
     * Each planned layer's statistics of its chosen groups ({@link HeadStats#within}), taken by apply when it folds
     * the same checkpoint with the same calibration and groups: the hidden-size products (a 7B layer's largest
     * cost after the search) then run once per layer, not twice. Bounded by a quarter of the heap; a layer not
     * kept, or asked for again, is recomputed.
     */
    private final Map<Integer, Planned> planned = new ConcurrentHashMap<>();
    private final AtomicLong plannedBytes = new AtomicLong();

    private record Planned(Checkpoint in, CalibrationStats calibration, Grouping k, Grouping v, HeadStats kStats, HeadStats vStats, long bytes) {}

    public AsymStrategy() { this(Settings.defaults()); }

    public AsymStrategy(Settings settings) { this.settings = settings; }

    public Settings settings() { return settings; }

    @Override public String name() { return NAME; }

    @Override public boolean needsCalibration() { return true; }

    @Override
    public FusionPlan plan(Checkpoint in, FusionRequest request) throws IOException {
        LlamaConfig c = check(in);
        AsymOptions o = settings.options(request.kvHeads());
        List<LayerPlan> layers = new ArrayList<>();
        List<Map<String, Object>> perLayer = new ArrayList<>();
        boolean calibrated = false;
        planned.clear();
        plannedBytes.set(0);
        for (int l = 0; l < c.numLayers(); l++) {
            long t0 = System.nanoTime();
            LayerWeights w = weights(in, l);
            InputMoments x = InputMoments.of(in, request.calibration(), l);
            calibrated = x.calibrated();
            HeadStats[] kv = HeadStats.of(w, x.secondMoment(), x.covariance());
            LayerGroups g = GroupPlanner.plan(l, kv[0], kv[1], o);
            keep(in, request.calibration(), l, g, kv);
            double seconds = (System.nanoTime() - t0) / 1e9;
            layers.add(new LayerPlan(l, g.k().allMembers(), g.v().allMembers(), seconds));
            perLayer.add(details(g, seconds));
            request.progress().planned(l, c.numLayers());
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("method", o.describe());
        details.put(SIMILARITY, o.similarity().name());
        details.put("calibration_tokens", request.calibration() == null ? 0 : request.calibration().tokens());
        if (!calibrated) details.put("calibration_note", "no calibration text: input moments taken as diag(input_layernorm^2)");
        details.put(LAYERS, perLayer);
        return new FusionPlan(NAME, c.numHeads(), request.kvHeads(), layers, details);
    }

    private void keep(Checkpoint in, CalibrationStats calibration, int layer, LayerGroups g, HeadStats[] kv) {
        int d = kv[0].headDim();
        long bytes = HeadStats.withinBytes(g.k(), d) + HeadStats.withinBytes(g.v(), d);
        if (plannedBytes.addAndGet(bytes) > Runtime.getRuntime().maxMemory() / 4) {
            plannedBytes.addAndGet(-bytes);
            return;
        }
        planned.put(layer, new Planned(in, calibration, g.k(), g.v(), kv[0].within(g.k()), kv[1].within(g.v()), bytes));
    }

    /** The kept statistics of a layer if they are for this checkpoint, calibration and groups (given up either way). */
    private HeadStats[] takePlanned(Checkpoint in, CalibrationStats calibration, int layer, LayerGroups groups) {
        Planned p = planned.remove(layer);
        if (p == null) return null;
        plannedBytes.addAndGet(-p.bytes());
        boolean same = p.in() == in && p.calibration() == calibration && p.k().equals(groups.k()) && p.v().equals(groups.v());
        return same ? new HeadStats[] {p.kStats(), p.vStats()} : null;
    }

    private static Map<String, Object> details(LayerGroups g, double seconds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("layer", g.layer());
        m.put("seconds", seconds);
        m.put("k_error", g.kError());
        m.put("v_error", g.vError());
        m.put("k_error_mean_pool", g.kBaseline());
        m.put("v_error_mean_pool", g.vBaseline());
        m.put("k_similarity", g.kSimilarity());
        m.put("v_similarity", g.vSimilarity());
        return m;
    }

    @Override
    public FusionResult apply(Checkpoint in, FusionPlan plan, FusionRequest request) throws IOException {
        LlamaConfig c = check(in);
        AsymOptions o = settings.options(plan.kvHeads());
        int n = c.numHeads(), d = c.headDim(), kv = plan.kvHeads();
        Map<String, TensorSource> out = new LinkedHashMap<>();
        int[][] kMaps = new int[c.numLayers()][], vMaps = new int[c.numLayers()][];
        boolean standard = true;
        for (LayerPlan lp : plan.layers()) {
            int l = lp.layer();
            Grouping gk = Grouping.of(lp.kGroups()), gv = Grouping.of(lp.vGroups());
            if (gk.groups() != kv || gv.groups() != kv) throw new IllegalArgumentException("layer " + l + " of the plan does not have " + kv + " groups");
            LayerGroups groups = new LayerGroups(l, gk, gv, null, null, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0);
            standard &= groups.standard();
            // The maps the fused layer will have, known without computing it.
            int[] order = groups.standard() && !gk.isContiguous() ? HeadPermutation.contiguousOrder(gk) : identity(n);
            kMaps[l] = HeadPermutation.map(gk.groupOf(), order);
            vMaps[l] = HeadPermutation.map(gv.groupOf(), order);
            CalibrationStats calib = request.calibration();
            // The statistics plan computed for these groups are used once, by the first computation; a recomputation
            // (the writer asking again) derives them afresh.
            HeadStats[][] kept = {takePlanned(in, calib, l, groups)};
            LazyAttention.put(out, in, l, (long) kv * d, (long) kv * d, () -> {
                LayerWeights w = weights(in, l);
                HeadStats[] stats = kept[0];
                kept[0] = null;
                if (stats == null) {
                    InputMoments x = InputMoments.of(in, calib, l);
                    stats = HeadStats.of(w, x.secondMoment(), x.covariance());
                }
                return LayerFusion.apply(w, stats[0], stats[1], groups, o);
            });
        }
        LlamaConfig config = c.withKvHeads(kv);
        if (!standard) config = config.withHeadMaps(kMaps, vMaps);
        return new FusionResult(config, out, plan);
    }

    /** Layer l's attention projections of an MHA checkpoint, widened to fp32. */
    public static LayerWeights weights(Checkpoint in, int l) throws IOException {
        LlamaConfig c = in.config();
        return new LayerWeights(in.tensor(LlamaNames.q(l)).toFloats(), in.tensor(LlamaNames.k(l)).toFloats(),
                in.tensor(LlamaNames.v(l)).toFloats(), in.tensor(LlamaNames.o(l)).toFloats(), c.hiddenSize(), c.numHeads(), c.headDim());
    }

    /** The config of {@code in}, refusing what the fold and pooling maths cannot handle (not MHA, head maps, attention biases). */
    public static LlamaConfig check(Checkpoint in) throws IOException {
        LlamaConfig c = in.config();
        if (c.numKvHeads() != c.numHeads())
            throw new CheckpointException(in.source(), "has " + c.numKvHeads() + " kv heads for " + c.numHeads()
                    + " query heads: the asym strategy regroups a multi-head (MHA) checkpoint");
        if (c.hasHeadMaps()) throw new CheckpointException(in.source(), "already carries per-layer head maps");
        for (int l = 0; l < c.numLayers(); l++)
            if (in.has(LlamaNames.qBias(l)) || in.has(LlamaNames.kBias(l)) || in.has(LlamaNames.vBias(l)))
                throw new CheckpointException(in.source(), "has attention biases, which the asym strategy does not rotate or pool yet (use --strategy mean)");
        return c;
    }

    private static int[] identity(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }
}
