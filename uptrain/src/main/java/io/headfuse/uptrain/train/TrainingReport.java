package io.headfuse.uptrain.train;

import java.util.List;
import java.util.Map;

/**
 * What a training run did: the recipe, the steps and tokens, the time spent training (evaluations excluded, as
 * distill_ref.py counts it), the loss curve and the held-out perplexities along the way.
 *
 * @param steps        optimiser steps taken (including those of an earlier run this one resumed)
 * @param tokens       training tokens seen
 * @param trainSeconds seconds spent in training steps (not evaluating or saving)
 * @param resumedAt    the step this run resumed from (0 for a fresh run)
 */
public record TrainingReport(UptrainRecipe recipe, int steps, long tokens, double trainSeconds, int resumedAt,
                             List<LossPoint> losses, List<EvalPoint> evals) {
    public TrainingReport {
        losses = List.copyOf(losses);
        evals = List.copyOf(evals);
    }

    /**
     * The mean loss and gradient norm over the steps since the previous point, and the learning rate of the last.
     */
    public record LossPoint(int step, long tokens, double loss, double gradNorm, double lr) {}

    /**
     * Perplexity of each held-out slice after {@code tokens} training tokens; {@code note} says what was measured
     * when it is not the live fp32 weights (e.g. the written bf16 checkpoint).
     */
    public record EvalPoint(long tokens, Map<String, Double> ppl, String note) {
        public EvalPoint {
            ppl = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(ppl));
        }
    }

    /** Training tokens per second (this run's steps only). */
    public double tokensPerSecond() {
        long own = tokens - (long) resumedAt * recipe.tokensPerStep();
        return trainSeconds > 0 ? own / trainSeconds : Double.NaN;
    }
}
