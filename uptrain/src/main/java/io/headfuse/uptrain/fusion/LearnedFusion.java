package io.headfuse.uptrain.fusion;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.headfuse.formats.LlamaNames;
import io.headfuse.uptrain.model.LayerTransform;
import io.headfuse.uptrain.model.LayerWeights;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.train.NoGrad;
import io.headfuse.uptrain.train.TrainingExtension;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * DHA's trainable fusion operators on the runtime. The student is the still-MHA start model (every group's members
 * aligned, {@code MemberProjections.start}); per (layer, type K or V, group) an m x m operator omega mixes the
 * group's member heads, W'_i = sum_j omega_ij W_j, starting at the identity, so the student starts as the teacher.
 * All groups of a (layer, type) are held as one heads x heads block-diagonal matrix (entries outside the blocks are
 * masked to zero, so they never act nor train): one matmul derives that layer's whole K (or V) projection.
 *
 * <p>The fusion loss of layer l is the members' spread around their group's fused head, relative to the start
 * weights, K and V summed: f_l = sum_t |(I - A_t) W'_t|^2 / |W_t|^2, with A_t the group-averaging matrix. The
 * {@link io.headfuse.uptrain.train.Trainer} minimises distillation + sum_l (lambda_l f_l + rho/2 f_l^2) (augmented
 * Lagrangian); every {@code every} steps each lambda_l rises by rho f_l (ascent on the multipliers), so the members
 * are driven together while the distillation keeps the outputs close to the teacher's. Then every group collapses.
 */
public final class LearnedFusion implements TrainingExtension, LayerTransform, AutoCloseable {
    /**
     * @param rho        penalty weight of the augmented Lagrangian and step of the multiplier ascent
     * @param every      optimiser steps between multiplier updates
     * @param operatorLr learning rate of the operators (their entries are O(1), the weights' O(0.01))
     */
    public record Settings(double rho, int every, double operatorLr) {
        public Settings {
            if (!(rho > 0) || !Double.isFinite(rho)) throw new IllegalArgumentException("rho must be positive, got " + rho);
            if (every < 1) throw new IllegalArgumentException("multiplier update interval must be at least 1 step, got " + every);
            if (!(operatorLr > 0) || !Double.isFinite(operatorLr)) throw new IllegalArgumentException("operator lr must be positive, got " + operatorLr);
        }

        /**
         * rho 4, multipliers updated every 2 steps, operator lr 0.3: the members merge within the first steps and the
         * fused layout trains for the rest (Adam moves each operator entry by about its lr a step, so 0.1 merged
         * too slowly and 0.5 left the operators jittering around the merge). On headfuse-mha-s kv 2 with 128 steps the
         * fusion loss ends at 5e-5 to 2e-4 and the collapse adds 0.002 nats of KL (README).
         */
        public static Settings defaults() { return new Settings(4.0, 2, 0.3); }
    }

    /** The fusion losses and multipliers after a step. */
    public record Point(int step, long tokens, double[] fusionLoss, double[] lambda) {}

    private final NDManager manager;
    private final int layers, heads, d, hidden;
    private final Settings settings;
    private final double lrScale;
    /** Index 2l: K of layer l, 2l+1: V. */
    private final NDArray[] omega, mask, residual, start, startBias;
    private final double[] startNorm;
    private final double[] lambda;
    private final double[] lastLoss;
    private final List<Point> history = new ArrayList<>();
    private final Set<String> derived = new HashSet<>();

    /**
     * @param kGroups per layer, the K groups (member query heads) of the plan; {@code vGroups} likewise
     * @param recipeLr the recipe's peak learning rate (operators train at {@code settings.operatorLr()})
     */
    public LearnedFusion(LlamaModel student, List<int[][]> kGroups, List<int[][]> vGroups, Settings settings, double recipeLr) {
        var c = student.config();
        this.layers = c.numLayers();
        this.heads = c.numHeads();
        this.d = c.headDim();
        this.hidden = c.hiddenSize();
        if (kGroups.size() != layers || vGroups.size() != layers)
            throw new IllegalArgumentException("groups for " + kGroups.size() + " layers, the model has " + layers);
        for (int l = 0; l < layers; l++)
            if (c.kvHeads(l, false) != heads || c.kvHeads(l, true) != heads)
                throw new IllegalArgumentException("learned fusion starts from an MHA model; layer " + l + " has fewer K/V heads than query heads");
        this.settings = settings;
        this.lrScale = settings.operatorLr() / recipeLr;
        this.manager = student.manager().newSubManager();
        int n = 2 * layers;
        omega = new NDArray[n];
        mask = new NDArray[n];
        residual = new NDArray[n];
        start = new NDArray[n];
        startBias = new NDArray[n];
        startNorm = new double[n];
        lambda = new double[layers];
        lastLoss = new double[layers];
        try (NoGrad off = new NoGrad()) {
            for (int l = 0; l < layers; l++) {
                LayerWeights w = student.weights().layer(l);
                for (int t = 0; t < 2; t++) {
                    int i = 2 * l + t;
                    int[][] groups = (t == 0 ? kGroups : vGroups).get(l);
                    float[] m = new float[heads * heads], r = new float[heads * heads];
                    for (int[] g : groups)
                        for (int a : g)
                            for (int b : g) {
                                m[a * heads + b] = 1;
                                r[a * heads + b] = -1f / g.length;
                            }
                    for (int h = 0; h < heads; h++) r[h * heads + h] += 1;
                    mask[i] = manager.create(m, new Shape(heads, heads));
                    residual[i] = manager.create(r, new Shape(heads, heads));
                    float[] eye = new float[heads * heads];
                    for (int h = 0; h < heads; h++) eye[h * heads + h] = 1;
                    omega[i] = manager.create(eye, new Shape(heads, heads));
                    NDArray proj = t == 0 ? w.k() : w.v(), bias = t == 0 ? w.kBias() : w.vBias();
                    start[i] = proj.reshape(heads, (long) d * hidden).duplicate();
                    start[i].attach(manager);
                    if (bias != null) {
                        startBias[i] = bias.reshape(heads, d).duplicate();
                        startBias[i].attach(manager);
                    }
                    try (NDManager tmp = manager.newSubManager()) {
                        NDArray sq = start[i].duplicate();
                        sq.attach(tmp);
                        startNorm[i] = Math.max(1e-30, sq.square().sum().getFloat());
                    }
                    derived.add(t == 0 ? LlamaNames.k(l) : LlamaNames.v(l));
                    if (bias != null) derived.add(t == 0 ? LlamaNames.kBias(l) : LlamaNames.vBias(l));
                }
            }
        }
    }

    @Override public Set<String> derived() { return Set.copyOf(derived); }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            out.add(new Parameter("model.layers." + l + ".self_attn.k_fusion", omega[2 * l], lrScale));
            out.add(new Parameter("model.layers." + l + ".self_attn.v_fusion", omega[2 * l + 1], lrScale));
        }
        return out;
    }

    /** The masked operator of projection {@code i} times its start weights: W' as [heads, d * hidden], in {@code step}. */
    private NDArray mixed(int i, NDManager step) {
        NDArray op = omega[i].mul(mask[i]);
        op.attach(step);
        return op.matMul(start[i]);
    }

    private NDArray mixedBias(int i, NDManager step) {
        if (startBias[i] == null) return null;
        NDArray op = omega[i].mul(mask[i]);
        op.attach(step);
        return op.matMul(startBias[i]).reshape((long) heads * d);
    }

    @Override
    public LayerWeights apply(int layer, LayerWeights stored, NDManager step) {
        NDArray k = mixed(2 * layer, step).reshape((long) heads * d, hidden), v = mixed(2 * layer + 1, step).reshape((long) heads * d, hidden);
        return stored.withKv(k, v, mixedBias(2 * layer, step), mixedBias(2 * layer + 1, step));
    }

    /** f_l of every layer, with gradients, in {@code step}. */
    private NDArray[] fusionLosses(NDManager step) {
        NDArray[] f = new NDArray[layers];
        for (int l = 0; l < layers; l++)
            for (int t = 0; t < 2; t++) {
                int i = 2 * l + t;
                NDArray r = residual[i].duplicate();                 // into the step, so the products are freed with it
                r.attach(step);
                NDArray spread = r.matMul(mixed(i, step)).square().sum().div((float) startNorm[i]);
                f[l] = f[l] == null ? spread : f[l].add(spread);
            }
        return f;
    }

    @Override
    public NDArray loss(NDManager step) {
        NDArray[] f = fusionLosses(step);
        NDArray total = null;
        for (int l = 0; l < layers; l++) {
            lastLoss[l] = f[l].getFloat();
            NDArray term = f[l].mul((float) lambda[l]).add(f[l].square().mul((float) (settings.rho() / 2)));
            total = total == null ? term : total.add(term);
        }
        return total;
    }

    @Override
    public void stepped(int step, long tokens) {
        history.add(new Point(step, tokens, lastLoss.clone(), lambda.clone()));
        if (step % settings.every() == 0)
            for (int l = 0; l < layers; l++) lambda[l] += settings.rho() * lastLoss[l];
    }

    /** Fusion loss f_l of every layer for the current operators. */
    public double[] fusionLoss() {
        try (NoGrad off = new NoGrad(); NDManager step = manager.newSubManager()) {
            NDArray[] f = fusionLosses(step);
            double[] out = new double[layers];
            for (int l = 0; l < layers; l++) out[l] = f[l].getFloat();
            return out;
        }
    }

    /** The current K (or V) projection of {@code layer}, [heads * d, hidden] row-major, on the heap. */
    public float[] projection(int layer, boolean isV) {
        try (NoGrad off = new NoGrad(); NDManager step = manager.newSubManager()) {
            return mixed(2 * layer + (isV ? 1 : 0), step).toFloatArray();
        }
    }

    /** The current K (or V) bias of {@code layer}, or null when the model has none. */
    public float[] bias(int layer, boolean isV) {
        try (NoGrad off = new NoGrad(); NDManager step = manager.newSubManager()) {
            NDArray b = mixedBias(2 * layer + (isV ? 1 : 0), step);
            return b == null ? null : b.toFloatArray();
        }
    }

    /** The operator of (layer, type) as heads x heads (zero outside its groups' blocks). */
    public float[] operator(int layer, boolean isV) {
        try (NoGrad off = new NoGrad(); NDManager step = manager.newSubManager()) {
            NDArray op = omega[2 * layer + (isV ? 1 : 0)].mul(mask[2 * layer + (isV ? 1 : 0)]);
            op.attach(step);
            return op.toFloatArray();
        }
    }

    /** Fusion losses and multipliers after every step so far. */
    public List<Point> history() { return List.copyOf(history); }

    public double[] lambda() { return lambda.clone(); }

    @Override public void close() { manager.close(); }
}
