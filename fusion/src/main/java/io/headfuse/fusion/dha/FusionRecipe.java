package io.headfuse.fusion.dha;

/**
 * How DHA's learned fusion trains, as plain numbers (the runtime that trains lives in uptrain; the converter builds
 * its recipe and the operators' settings from these). Validated on construction, each message naming the CLI flag,
 * so a bad value fails before any model is loaded; {@link #window} and {@link #requireOneStep} check what needs the
 * model's positions.
 *
 * <p>The defaults were tuned on the CPU check (headfuse-mha-s kv 2, 32,768 fusion tokens, bench/dha-cpu.sh, README):
 * one 256-token window a step gives the operators 128 steps on 32,768 tokens (4 x 512 gives 16); more, smaller steps
 * let the members merge early and the collapsed layout train for the rest (batch 4 -> 2 -> 1 took moby-dick after
 * uptrain 87.85 -> 86.63 -> 85.11). The weights train at uptrain's 3e-4 (5e-4, 1e-3, 3e-3 left a worse student after
 * the same uptrain). The operators train at 0.3 (Adam moves each entry by about its lr a step: 0.1 merged too slowly,
 * 0.5 left them jittering around the merge), with rho 4 and the multipliers raised every 2 steps.
 *
 * @param seq             tokens per training window ({@code --fusion-seq}); null for the default, {@link #DEFAULT_SEQ}
 *                        or a shorter model's positions (a window the user chose is never shrunk: see {@link #window})
 * @param batch           windows per optimiser step ({@code --fusion-batch})
 * @param lr              peak learning rate of the model's weights ({@code --fusion-lr})
 * @param operatorLr      learning rate of the fusion operators, whose entries are O(1) ({@code --operator-lr})
 * @param rho             penalty weight of the augmented Lagrangian and step of the multiplier ascent ({@code --fusion-rho})
 * @param multiplierEvery optimiser steps between multiplier updates ({@code --multiplier-every})
 */
public record FusionRecipe(Integer seq, int batch, double lr, double operatorLr, double rho, int multiplierEvery) {
    public static final int DEFAULT_SEQ = 256, DEFAULT_BATCH = 1, DEFAULT_MULTIPLIER_EVERY = 2;
    public static final double DEFAULT_LR = 3e-4, DEFAULT_OPERATOR_LR = 0.3, DEFAULT_RHO = 4.0;

    public FusionRecipe {
        if (seq != null && seq < 2) throw new IllegalArgumentException("--fusion-seq must be at least 2 tokens, got " + seq);
        if (batch < 1) throw new IllegalArgumentException("--fusion-batch must be at least 1 window, got " + batch);
        positive("--fusion-lr", lr);
        positive("--operator-lr", operatorLr);
        positive("--fusion-rho", rho);
        if (multiplierEvery < 1) throw new IllegalArgumentException("--multiplier-every must be at least 1 step, got " + multiplierEvery);
    }

    private static void positive(String flag, double x) {
        if (!(x > 0) || !Double.isFinite(x)) throw new IllegalArgumentException(flag + " must be a positive number, got " + x);
    }

    /** 256-token windows (fewer on a shorter model), one a step, weights at 3e-4, operators at 0.3, rho 4, multipliers every 2 steps. */
    public static FusionRecipe defaults() {
        return new FusionRecipe(null, DEFAULT_BATCH, DEFAULT_LR, DEFAULT_OPERATOR_LR, DEFAULT_RHO, DEFAULT_MULTIPLIER_EVERY);
    }

    /**
     * The window trained on a model with {@code maxPositions} positions. The default window shrinks to a shorter
     * model's positions (as before these settings were options); a window chosen longer than them is refused.
     */
    public int window(int maxPositions) {
        if (seq == null) return Math.min(DEFAULT_SEQ, maxPositions);
        if (seq <= maxPositions) return seq;
        throw new IllegalArgumentException("--fusion-seq " + seq + " is longer than the model's " + maxPositions + " positions");
    }

    /** Refuses a budget of {@code tokens} smaller than one step on a model with {@code maxPositions} positions. */
    public void requireOneStep(long tokens, int maxPositions) {
        int w = window(maxPositions);
        if (tokens < (long) w * batch)
            throw new IllegalArgumentException("--tokens " + tokens + " is less than one fusion step (--fusion-seq " + w + " x --fusion-batch "
                    + batch + " = " + (long) w * batch + " tokens)");
    }

    public FusionRecipe withSeq(Integer n) { return new FusionRecipe(n, batch, lr, operatorLr, rho, multiplierEvery); }

    public FusionRecipe withBatch(int n) { return new FusionRecipe(seq, n, lr, operatorLr, rho, multiplierEvery); }

    public FusionRecipe withLr(double x) { return new FusionRecipe(seq, batch, x, operatorLr, rho, multiplierEvery); }

    public FusionRecipe withOperatorLr(double x) { return new FusionRecipe(seq, batch, lr, x, rho, multiplierEvery); }

    public FusionRecipe withRho(double x) { return new FusionRecipe(seq, batch, lr, operatorLr, x, multiplierEvery); }

    public FusionRecipe withMultiplierEvery(int n) { return new FusionRecipe(seq, batch, lr, operatorLr, rho, n); }
}
