package io.headfuse.uptrain.train;

import java.util.Locale;

/**
 * How a student is trained back towards its teacher: the budget, the batch, the optimiser and the loss. Validated
 * on construction, so a bad value fails before any model is loaded. {@link #reference} is the recipe of
 * {@code shared/tools/distill_ref.py} (forward KL at temperature 1, AdamW betas (0.9, 0.95) without weight decay,
 * 5% linear warm-up, cosine to 10%, global-norm clip 1.0, batch 8); {@link #defaults} is headfuse's (the same at
 * batch 4). headfuse's own additions are off unless set ({@link #kvLrScale}, {@link #ceWeight}).
 *
 * @param tokens      training tokens in all (steps = ceil(tokens / (seq * batch * accum)))
 * @param seq         tokens per training window
 * @param batch       windows per micro-batch
 * @param accum       micro-batches per optimiser step (gradient accumulation)
 * @param lr          peak learning rate
 * @param warmup      fraction of the steps spent in linear warm-up
 * @param minLrRatio  the cosine ends at {@code minLrRatio * lr}
 * @param loss        what the student minimises
 * @param temperature softmax temperature of the KL term (the KL is scaled by T^2, so its gradients keep their size)
 * @param ceWeight    weight of the cross-entropy term in {@link Loss#KL_CE} (loss = KL + ceWeight * CE)
 * @param scope       which of the student's parameters train
 * @param kvLrScale   learning-rate multiplier for k_proj/v_proj (the projections the conversion rewrote)
 * @param clipNorm    global gradient-norm bound (0 turns clipping off)
 * @param seed        seeds the order of the training windows
 */
public record UptrainRecipe(long tokens, int seq, int batch, int accum, double lr, double warmup, double minLrRatio,
                            Loss loss, double temperature, double ceWeight, Scope scope, double kvLrScale,
                            double clipNorm, long seed) {
    public static final long DEFAULT_TOKENS = 2_000_000;
    /** headfuse's default windows per step (distill_ref.py uses 8). */
    public static final int DEFAULT_BATCH = 4;
    public static final double BETA1 = 0.9, BETA2 = 0.95, EPS = 1e-8, WEIGHT_DECAY = 0.0;

    /** The training objective. */
    public enum Loss {
        /** KL(teacher || student) over the full vocabulary, every position (distillation). */
        KL,
        /** Next-token cross-entropy on the data (plain uptraining, no teacher needed). */
        CE,
        /** KL + ceWeight * CE. */
        KL_CE;

        public static Loss parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "kl" -> KL;
                case "ce" -> CE;
                case "kl+ce", "kl_ce" -> KL_CE;
                default -> throw new IllegalArgumentException("unknown loss '" + s + "': expected kl, ce or kl+ce");
            };
        }

        public String label() { return this == KL_CE ? "kl+ce" : name().toLowerCase(Locale.ROOT); }
    }

    /** Which parameters train; the rest stay as converted. */
    public enum Scope {
        ALL, ATTENTION, KV;

        public static Scope parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "all" -> ALL;
                case "attention", "attn" -> ATTENTION;
                case "kv" -> KV;
                default -> throw new IllegalArgumentException("unknown --train '" + s + "': expected all, attention or kv");
            };
        }

        public String label() { return name().toLowerCase(Locale.ROOT); }
    }

    public UptrainRecipe {
        if (tokens <= 0) throw new IllegalArgumentException("tokens must be positive, got " + tokens);
        if (seq < 2) throw new IllegalArgumentException("seq must be at least 2 tokens, got " + seq);
        if (batch < 1) throw new IllegalArgumentException("batch must be at least 1, got " + batch);
        if (accum < 1) throw new IllegalArgumentException("accum must be at least 1, got " + accum);
        if (!(lr > 0) || !Double.isFinite(lr)) throw new IllegalArgumentException("lr must be a positive number, got " + lr);
        if (!(warmup >= 0 && warmup < 1)) throw new IllegalArgumentException("warmup must be in [0, 1), got " + warmup);
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) throw new IllegalArgumentException("min lr ratio must be in [0, 1], got " + minLrRatio);
        if (loss == null || scope == null) throw new IllegalArgumentException("loss and scope are required");
        if (!(temperature > 0) || !Double.isFinite(temperature)) throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        if (!(ceWeight >= 0) || !Double.isFinite(ceWeight)) throw new IllegalArgumentException("ce weight must be >= 0, got " + ceWeight);
        if (!(kvLrScale > 0) || !Double.isFinite(kvLrScale)) throw new IllegalArgumentException("kv lr scale must be positive, got " + kvLrScale);
        if (!(clipNorm >= 0) || !Double.isFinite(clipNorm)) throw new IllegalArgumentException("clip norm must be >= 0, got " + clipNorm);
    }

    /**
     * Refuses a budget smaller than one step. Not checked on construction, so that the {@code with*} methods can
     * change the budget and the batch in any order; the trainer checks it before it loads anything.
     */
    public void requireOneStep() {
        if (tokens < tokensPerStep())
            throw new IllegalArgumentException("--tokens " + tokens + " is less than one step (" + seq + " x " + batch + " x " + accum + " = "
                    + tokensPerStep() + " tokens)");
    }

    /**
     * headfuse's default recipe: distill_ref.py's, at half its batch (4 windows a step, so twice the steps for the same
     * tokens). On the GPU at 0.4M tokens this took asym kv 2 from 71.0 to 69.9 (mean of seeds 0-2; README's ablation).
     */
    public static UptrainRecipe defaults(long tokens, int seq) {
        return reference(tokens, seq).withBatch(DEFAULT_BATCH);
    }

    /** distill_ref.py's recipe for {@code tokens} tokens at {@code seq} tokens per window (batch 8). */
    public static UptrainRecipe reference(long tokens, int seq) {
        return new UptrainRecipe(tokens, seq, 8, 1, 3e-4, 0.05, 0.1, Loss.KL, 1.0, 0.5, Scope.ALL, 1.0, 1.0, 0);
    }

    private static long tokensPerStep(int seq, int batch, int accum) { return (long) seq * batch * accum; }

    public long tokensPerStep() { return tokensPerStep(seq, batch, accum); }

    /** Optimiser steps: enough to see {@code tokens} (at least one). */
    public int steps() { return Math.max(1, Math.toIntExact((tokens + tokensPerStep() - 1) / tokensPerStep())); }

    /** Warm-up steps, as distill_ref.py counts them (at least one). */
    public int warmupSteps() { return Math.max(1, (int) (steps() * warmup)); }

    /** The learning-rate factor of step {@code s} (0-based): linear warm-up times a cosine from 1 to minLrRatio. */
    public double lrFactor(int s) {
        double ramp = Math.min(1.0, (s + 1) / (double) warmupSteps());
        double progress = Math.min(1.0, s / (double) steps());
        return ramp * (minLrRatio + (1 - minLrRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    }

    public UptrainRecipe withTokens(long n) { return new UptrainRecipe(n, seq, batch, accum, lr, warmup, minLrRatio, loss, temperature, ceWeight, scope, kvLrScale, clipNorm, seed); }

    public UptrainRecipe withSeq(int n) { return new UptrainRecipe(tokens, n, batch, accum, lr, warmup, minLrRatio, loss, temperature, ceWeight, scope, kvLrScale, clipNorm, seed); }

    public UptrainRecipe withBatch(int n) { return new UptrainRecipe(tokens, seq, n, accum, lr, warmup, minLrRatio, loss, temperature, ceWeight, scope, kvLrScale, clipNorm, seed); }

    public UptrainRecipe withAccum(int n) { return new UptrainRecipe(tokens, seq, batch, n, lr, warmup, minLrRatio, loss, temperature, ceWeight, scope, kvLrScale, clipNorm, seed); }

    public UptrainRecipe withLr(double x) { return new UptrainRecipe(tokens, seq, batch, accum, x, warmup, minLrRatio, loss, temperature, ceWeight, scope, kvLrScale, clipNorm, seed); }

    public UptrainRecipe withWarmup(double x) { return new UptrainRecipe(tokens, seq, batch, accum, lr, x, minLrRatio, loss, temperature, ceWeight, scope, kvLrScale, clipNorm, seed); }

    public UptrainRecipe withLoss(Loss l) { return new UptrainRecipe(tokens, seq, batch, accum, lr, warmup, minLrRatio, l, temperature, ceWeight, scope, kvLrScale, clipNorm, seed); }

    public UptrainRecipe withTemperature(double t) { return new UptrainRecipe(tokens, seq, batch, accum, lr, warmup, minLrRatio, loss, t, ceWeight, scope, kvLrScale, clipNorm, seed); }

    public UptrainRecipe withCeWeight(double w) { return new UptrainRecipe(tokens, seq, batch, accum, lr, warmup, minLrRatio, loss, temperature, w, scope, kvLrScale, clipNorm, seed); }

    public UptrainRecipe withScope(Scope s) { return new UptrainRecipe(tokens, seq, batch, accum, lr, warmup, minLrRatio, loss, temperature, ceWeight, s, kvLrScale, clipNorm, seed); }

    public UptrainRecipe withKvLrScale(double x) { return new UptrainRecipe(tokens, seq, batch, accum, lr, warmup, minLrRatio, loss, temperature, ceWeight, scope, x, clipNorm, seed); }

    public UptrainRecipe withClipNorm(double x) { return new UptrainRecipe(tokens, seq, batch, accum, lr, warmup, minLrRatio, loss, temperature, ceWeight, scope, kvLrScale, x, seed); }

    public UptrainRecipe withSeed(long s) { return new UptrainRecipe(tokens, seq, batch, accum, lr, warmup, minLrRatio, loss, temperature, ceWeight, scope, kvLrScale, clipNorm, s); }
}
