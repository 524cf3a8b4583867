package io.headfuse.fusion;

import io.headfuse.formats.calib.CalibrationStats;

/**
 * What a strategy is asked for: the kv head count, (for activation-informed strategies) calibration
 * statistics gathered by running the original model, and strategy-specific settings by name (e.g. the asym
 * strategy's {@code align}, {@code lsq}, {@code coupled}, {@code seed}); a strategy ignores names it does not know.
 */
public record FusionRequest(int kvHeads, CalibrationStats calibration, java.util.Map<String, String> options) {
    public FusionRequest {
        if (kvHeads <= 0) throw new IllegalArgumentException("--kv-heads must be positive, got " + kvHeads);
        options = java.util.Map.copyOf(options);
    }

    public FusionRequest(int kvHeads, CalibrationStats calibration) { this(kvHeads, calibration, java.util.Map.of()); }

    /** The named setting, or {@code dflt} when absent. */
    public String option(String name, String dflt) { return options.getOrDefault(name, dflt); }

    public static FusionRequest of(int kvHeads) { return new FusionRequest(kvHeads, null); }
}
