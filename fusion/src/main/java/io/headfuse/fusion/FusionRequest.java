package io.headfuse.fusion;

import io.headfuse.formats.calib.CalibrationStats;

/**
 * What a strategy is asked for: the kv head count, (for activation-informed strategies) calibration statistics
 * gathered by running the original model, and whom to tell as planning finishes each layer. How the strategy
 * works is fixed by its own typed {@link StrategyOptions}, given when it is built ({@link Strategies#create}).
 */
public record FusionRequest(int kvHeads, CalibrationStats calibration, LayerProgress progress) {
    public FusionRequest {
        if (kvHeads <= 0) throw new IllegalArgumentException("--kv-heads must be positive, got " + kvHeads);
        if (progress == null) progress = LayerProgress.NONE;
    }

    public FusionRequest(int kvHeads, CalibrationStats calibration) { this(kvHeads, calibration, LayerProgress.NONE); }

    public static FusionRequest of(int kvHeads) { return new FusionRequest(kvHeads, null); }
}
