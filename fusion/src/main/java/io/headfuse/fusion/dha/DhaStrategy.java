package io.headfuse.fusion.dha;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionRequest;
import io.headfuse.fusion.FusionResult;
import io.headfuse.fusion.FusionStrategy;
import io.headfuse.fusion.LayerPlan;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.asym.HeadStats;
import io.headfuse.fusion.asym.InputMoments;
import io.headfuse.fusion.asym.LayerWeights;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DHA, training-free half: per-layer, per-type K/V head budgets under the KV bytes of uniform GQA, chosen by how
 * hard each layer's heads are to fuse, then groups collapsed as asym collapses them (align + least squares).
 * <ol>
 *   <li>{@link FusionDifficulty}: per (layer, type), Ward's groupings and their relative errors at every count;</li>
 *   <li>{@link BudgetAllocator}: counts in [min, max] summing to 2 x N x layers, least total error;</li>
 *   <li>{@link DhaCollapse}: each group aligned and pooled into one head; k_proj/v_proj get per-layer shapes.</li>
 * </ol>
 * The learned fusion stage (operators trained with distillation, see {@link FusionOperators} and
 * {@link MemberProjections}) starts from the same plan.
 */
public final class DhaStrategy implements FusionStrategy {
    public static final String NAME = "dha";
    /** Detail keys: per-layer K and V head counts. */
    public static final String K_HEADS = "k_heads", V_HEADS = "v_heads";
    /** Detail key: why plain transformers cannot load the result (absent when it can). */
    public static final String HF_NOTE = "hf_note";
    public static final String NOT_HF_LOADABLE = "layers keep different numbers of K and V heads (config.json headfuse.k_heads/v_heads, "
            + "k_proj/v_proj shaped per layer, query heads read them through headfuse.k_head_map/v_head_map); transformers' "
            + "LlamaAttention builds every layer with one num_key_value_heads and contiguous groups, so it cannot load these "
            + "weights: use the headfuse runtime, or convert with --uniform for a standard GQA checkpoint";

    private final DhaOptions options;

    /** Options from each request's kv heads and settings ({@link DhaOptions#fromSettings}). */
    public DhaStrategy() { this(null); }

    public DhaStrategy(DhaOptions options) { this.options = options; }

    @Override public String name() { return NAME; }

    @Override public boolean needsCalibration() { return true; }

    /** The options for a request: the typed ones given at construction (their budget must match), or the request's settings. */
    public DhaOptions options(FusionRequest request) {
        if (options == null) return DhaOptions.fromSettings(request.kvHeads(), request.options());
        if (options.kvHeads() != request.kvHeads())
            throw new IllegalArgumentException("DHA options budget " + options.kvHeads() + " differs from the requested " + request.kvHeads() + " kv heads");
        return options;
    }

    @Override
    public FusionPlan plan(Checkpoint in, FusionRequest request) throws IOException {
        LlamaConfig c = AsymStrategy.check(in);
        DhaOptions o = options(request);
        int heads = c.numHeads(), layers = c.numLayers();
        if (o.maxHeads(heads) < o.kvHeads())
            throw new IllegalArgumentException("DHA budget of " + o.kvHeads() + " kv heads exceeds the model's " + heads + " heads per layer");
        if (o.uniform()) return uniformPlan(in, request, o);
        FusionDifficulty[] k = new FusionDifficulty[layers], v = new FusionDifficulty[layers];
        List<Map<String, Object>> perLayer = new ArrayList<>();
        double[] seconds = new double[layers];
        for (int l = 0; l < layers; l++) {
            long t0 = System.nanoTime();
            LayerWeights w = AsymStrategy.weights(in, l);
            InputMoments x = InputMoments.of(in, request.calibration(), l);
            HeadStats[] kv = HeadStats.of(w, x.secondMoment(), x.covariance());
            k[l] = FusionDifficulty.measure(l, kv[0]);
            v[l] = FusionDifficulty.measure(l, kv[1]);
            seconds[l] = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("k_similarity", o.similarity().matrix(kv[0]));
            m.put("v_similarity", o.similarity().matrix(kv[1]));
            perLayer.add(m);
        }
        double[][] errors = new double[2 * layers][];
        for (int l = 0; l < layers; l++) {
            errors[2 * l] = k[l].errors();
            errors[2 * l + 1] = v[l].errors();
        }
        int[] counts = BudgetAllocator.allocate(errors, 2 * o.kvHeads() * layers, o.minHeads(), o.maxHeads(heads));
        int[] kHeads = new int[layers], vHeads = new int[layers];
        List<LayerPlan> plans = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            kHeads[l] = counts[2 * l];
            vHeads[l] = counts[2 * l + 1];
            plans.add(new LayerPlan(l, k[l].grouping(kHeads[l]).allMembers(), v[l].grouping(vHeads[l]).allMembers(), seconds[l]));
            Map<String, Object> m = perLayer.get(l);
            m.put("layer", l);
            m.put("seconds", seconds[l]);
            m.put("k_heads", kHeads[l]);
            m.put("v_heads", vHeads[l]);
            m.put("k_error", k[l].error(kHeads[l]));
            m.put("v_error", v[l].error(vHeads[l]));
            m.put("k_error_by_count", k[l].errors());
            m.put("v_error_by_count", v[l].errors());
        }
        int[] uniform = new int[2 * layers];
        java.util.Arrays.fill(uniform, o.kvHeads());
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("method", o.describe(heads));
        details.put(AsymStrategy.SIMILARITY, o.similarity().name());
        details.put("calibration_tokens", request.calibration() == null ? 0 : request.calibration().tokens());
        if (request.calibration() == null) details.put("calibration_note", "no calibration text: input moments taken as diag(input_layernorm^2)");
        details.put(K_HEADS, kHeads);
        details.put(V_HEADS, vHeads);
        details.put("allocation_error", BudgetAllocator.cost(errors, counts));
        details.put("uniform_allocation_error", BudgetAllocator.cost(errors, uniform));
        details.put(HF_NOTE, NOT_HF_LOADABLE);
        details.put(AsymStrategy.LAYERS, perLayer);
        return new FusionPlan(NAME, heads, o.kvHeads(), plans, details);
    }

    /** {@code --uniform}: asym with alignment, least squares and one grouping for K and V, relabelled as DHA's. */
    private static FusionPlan uniformPlan(Checkpoint in, FusionRequest request, DhaOptions o) throws IOException {
        FusionPlan p = uniformAsym().plan(in, uniformRequest(request, o));
        Map<String, Object> details = new LinkedHashMap<>(p.details());
        details.put("method", o.describe(p.heads()));
        details.put("uniform", true);
        return new FusionPlan(NAME, p.heads(), p.kvHeads(), p.layers(), details);
    }

    private static AsymStrategy uniformAsym() {
        return new AsymStrategy(AsymStrategy.Settings.defaults().with(true, true, true, 0));
    }

    private static FusionRequest uniformRequest(FusionRequest r, DhaOptions o) {
        return new FusionRequest(r.kvHeads(), r.calibration(), Map.of("align", "true", "lsq", "true", "coupled", "true", "seed", Long.toString(o.seed())));
    }

    @Override
    public FusionResult apply(Checkpoint in, FusionPlan plan, FusionRequest request) throws IOException {
        DhaOptions o = options(request);
        if (o.uniform()) return uniformAsym().apply(in, plan, uniformRequest(request, o));
        return DhaCollapse.apply(in, plan, request.calibration(), FusionDifficulty.METHOD);
    }
}
