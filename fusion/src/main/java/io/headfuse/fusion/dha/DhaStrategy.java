package io.headfuse.fusion.dha;

import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionRequest;
import io.headfuse.fusion.FusionResult;
import io.headfuse.fusion.FusionStrategy;
import io.headfuse.fusion.LayerPlan;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.fusion.asym.Grouping;
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
 *   <li>{@link FusionDifficulty}: per layer (K and V together, or each), Ward's groupings at every count;</li>
 *   <li>each count priced by the calibration-loss rise of collapsing that layer alone ({@link CollapseProbe}), or
 *       by the relative reconstruction error;</li>
 *   <li>{@link BudgetAllocator}: counts in [min, max] summing to N x layers (coupled) or 2 x N x layers, least
 *       total cost: the KV bytes of uniform GQA with N kv heads, exactly;</li>
 *   <li>{@link DhaCollapse}: each group aligned and pooled into one head; k_proj/v_proj get per-layer shapes.</li>
 * </ol>
 * With {@code --data}, a {@link GroupFuser} first trains the groups' fusion operators (distillation under an
 * augmented Lagrangian, from {@link MemberProjections#start}), then the groups collapse as above.
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
    private final CollapseProbe probe;
    private final GroupFuser fuser;

    public DhaStrategy() { this(DhaOptions.defaults()); }

    /** No probe or fuser yet: only the reconstruction difficulty (and {@code uniform}) can plan until one is attached. */
    public DhaStrategy(DhaOptions options) { this(options, null, null); }

    public DhaStrategy(DhaOptions options, CollapseProbe probe) { this(options, probe, null); }

    public DhaStrategy(DhaOptions options, CollapseProbe probe, GroupFuser fuser) {
        this.options = java.util.Objects.requireNonNull(options, "options");
        this.probe = probe;
        this.fuser = fuser;
    }

    /** The same strategy pricing counts with {@code p} (the pipeline attaches one that runs the model). */
    public DhaStrategy withProbe(CollapseProbe p) { return new DhaStrategy(options, p, fuser); }

    /** The same strategy training the groups' fusion operators with {@code f} before they collapse. */
    public DhaStrategy withFuser(GroupFuser f) { return new DhaStrategy(options, probe, f); }

    /** True when {@link #apply} needs a {@link GroupFuser} (learned fusion asked for, none attached yet). */
    public boolean needsFuser() { return options.learned() && fuser == null; }

    public DhaOptions options() { return options; }

    /** True when planning needs a {@link CollapseProbe}. */
    public boolean needsProbe() {
        return !options.uniform() && options.difficulty() == DhaOptions.Difficulty.LOSS;
    }

    @Override public String name() { return NAME; }

    @Override public boolean needsCalibration() { return true; }

    @Override
    public FusionPlan plan(Checkpoint in, FusionRequest request) throws IOException {
        LlamaConfig c = AsymStrategy.check(in);
        DhaOptions o = options;
        int heads = c.numHeads(), layers = c.numLayers(), budget = request.kvHeads();
        o.check(heads, budget);
        if (o.uniform()) return uniformPlan(in, request, o);
        if (o.difficulty() == DhaOptions.Difficulty.LOSS && probe == null)
            throw new IllegalStateException("DHA priced by calibration loss needs a probe that runs the model (Headfuse.convert provides one), "
                    + "or DhaOptions.Difficulty.RECONSTRUCTION");
        int max = o.maxHeads(heads, budget);
        // Items the budget is split between: one per layer when K and V share a grouping, else K and V of each layer.
        int per = o.coupled() ? 1 : 2;
        FusionDifficulty[] items = new FusionDifficulty[per * layers];
        double[][] costs = new double[per * layers][];
        List<Map<String, Object>> perLayer = new ArrayList<>();
        double[] seconds = new double[layers];
        Grouping singles = Grouping.contiguous(heads, heads);
        for (int l = 0; l < layers; l++) {
            long t0 = System.nanoTime();
            LayerWeights w = AsymStrategy.weights(in, l);
            InputMoments x = InputMoments.of(in, request.calibration(), l);
            HeadStats[] kv = HeadStats.of(w, x.secondMoment(), x.covariance());
            if (o.coupled()) items[l] = FusionDifficulty.measureCoupled(l, kv[0], kv[1]);
            else {
                items[2 * l] = FusionDifficulty.measure(l, kv[0]);
                items[2 * l + 1] = FusionDifficulty.measure(l, kv[1]);
            }
            for (int i = per * l; i < per * (l + 1); i++) {
                costs[i] = new double[max];
                for (int cnt = 1; cnt <= max; cnt++) {
                    Grouping g = items[i].grouping(cnt);
                    boolean isV = !o.coupled() && i % 2 == 1;
                    costs[i][cnt - 1] = o.difficulty() == DhaOptions.Difficulty.RECONSTRUCTION || cnt == heads ? items[i].error(cnt)
                            : probe.lossIncrease(l, isV ? singles : g, o.coupled() || isV ? g : singles);
                }
            }
            seconds[l] = (System.nanoTime() - t0) / 1e9;
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("k_similarity", o.similarity().matrix(kv[0]));
            m.put("v_similarity", o.similarity().matrix(kv[1]));
            perLayer.add(m);
            request.progress().planned(l, layers);
        }
        int total = (o.coupled() ? 1 : 2) * budget * layers;
        int[] counts = BudgetAllocator.allocate(costs, total, o.minHeads(), max);
        int[] kHeads = new int[layers], vHeads = new int[layers];
        List<LayerPlan> plans = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            int ki = per * l, vi = per * l + per - 1;
            kHeads[l] = counts[ki];
            vHeads[l] = counts[vi];
            plans.add(new LayerPlan(l, items[ki].grouping(kHeads[l]).allMembers(), items[vi].grouping(vHeads[l]).allMembers(), seconds[l]));
            Map<String, Object> m = perLayer.get(l);
            m.put("layer", l);
            m.put("seconds", seconds[l]);
            m.put("k_heads", kHeads[l]);
            m.put("v_heads", vHeads[l]);
            m.put("k_error", items[ki].error(kHeads[l]));
            m.put("v_error", items[vi].error(vHeads[l]));
            m.put((o.coupled() ? "kv" : "k") + "_cost_by_count", costs[ki]);
            if (!o.coupled()) m.put("v_cost_by_count", costs[vi]);
        }
        int[] uniform = new int[costs.length];
        java.util.Arrays.fill(uniform, budget);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("method", o.describe(heads, budget));
        details.put(AsymStrategy.SIMILARITY, o.similarity().name());
        details.put("calibration_tokens", request.calibration() == null ? 0 : request.calibration().tokens());
        if (request.calibration() == null) details.put("calibration_note", "no calibration text: input moments taken as diag(input_layernorm^2)");
        details.put(K_HEADS, kHeads);
        details.put(V_HEADS, vHeads);
        details.put("allocation_cost", BudgetAllocator.cost(costs, counts));
        details.put("uniform_allocation_cost", BudgetAllocator.cost(costs, uniform));
        details.put(HF_NOTE, NOT_HF_LOADABLE);
        details.put(AsymStrategy.LAYERS, perLayer);
        return new FusionPlan(NAME, heads, budget, plans, details);
    }

    /** {@code --uniform}: asym with alignment, least squares and one grouping for K and V, relabelled as DHA's. */
    private static FusionPlan uniformPlan(Checkpoint in, FusionRequest request, DhaOptions o) throws IOException {
        FusionPlan p = uniformAsym(o).plan(in, request);
        Map<String, Object> details = new LinkedHashMap<>(p.details());
        details.put("method", o.describe(p.heads(), request.kvHeads()));
        details.put("uniform", true);
        return new FusionPlan(NAME, p.heads(), p.kvHeads(), p.layers(), details);
    }

    private static AsymStrategy uniformAsym(DhaOptions o) {
        return new AsymStrategy(AsymStrategy.Settings.defaults().with(true, true, true, o.seed()));
    }

    @Override
    public FusionResult apply(Checkpoint in, FusionPlan plan, FusionRequest request) throws IOException {
        if (options.uniform()) return uniformAsym(options).apply(in, plan, request);
        if (options.learned()) {
            if (fuser == null) throw new IllegalStateException("DHA learned fusion (--data) needs a fuser that trains the model (Headfuse.convert provides one)");
            return fuser.fuse(in, plan, request.calibration());
        }
        return DhaCollapse.apply(in, plan, request.calibration(), FusionDifficulty.METHOD);
    }
}
