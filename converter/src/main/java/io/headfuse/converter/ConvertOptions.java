package io.headfuse.converter;

import io.headfuse.formats.DType;
import io.headfuse.formats.safetensors.SafetensorsWriter;
import io.headfuse.fusion.Strategies;
import io.headfuse.fusion.StrategyOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Everything a conversion needs. Start from {@link #of} and change what differs with the {@code with*} methods.
 * How the K/V heads are merged is the strategy's own typed options ({@link StrategyOptions}: e.g.
 * {@code MeanOptions}, {@code AsymStrategy.Settings}), so a setting of another strategy cannot slip in.
 *
 * @param strategyOptions the strategy and its settings (default: mean-pooling)
 * @param dtype output dtype, or null to keep the input's
 * @param calibFiles text the model is run on, for activation-informed strategies (refused by the others)
 */
public record ConvertOptions(Path model, Path out, int kvHeads, StrategyOptions strategyOptions, DType dtype, long shardSize, boolean force,
                             List<Path> calibFiles, int calibTokens, String calibDevice, Calibration.Mode calibMode) {
    public static final int DEFAULT_CALIB_TOKENS = 65536;

    public ConvertOptions {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(out, "out");
        Objects.requireNonNull(strategyOptions, "strategyOptions");
        calibFiles = List.copyOf(calibFiles);
        if (shardSize <= 0) throw new IllegalArgumentException("shard size must be positive, got " + shardSize);
        if (calibTokens <= 0) throw new IllegalArgumentException("--calib-tokens must be positive, got " + calibTokens);
        Objects.requireNonNull(calibDevice, "calibDevice");
        Objects.requireNonNull(calibMode, "calibMode");
    }

    public static ConvertOptions of(Path model, Path out, int kvHeads) {
        return new ConvertOptions(model, out, kvHeads, Strategies.defaults("mean"), null, SafetensorsWriter.DEFAULT_SHARD_SIZE, false,
                List.of(), DEFAULT_CALIB_TOKENS, "cpu", Calibration.Mode.AUTO);
    }

    /** The strategy's name ({@code --strategy}). */
    public String strategy() { return strategyOptions.strategy(); }

    /** The named strategy with its default options. */
    public ConvertOptions withStrategy(String name) { return withStrategy(Strategies.defaults(name)); }
    public ConvertOptions withStrategy(StrategyOptions s) { return new ConvertOptions(model, out, kvHeads, s, dtype, shardSize, force, calibFiles, calibTokens, calibDevice, calibMode); }
    public ConvertOptions withDtype(DType d) { return new ConvertOptions(model, out, kvHeads, strategyOptions, d, shardSize, force, calibFiles, calibTokens, calibDevice, calibMode); }
    public ConvertOptions withShardSize(long s) { return new ConvertOptions(model, out, kvHeads, strategyOptions, dtype, s, force, calibFiles, calibTokens, calibDevice, calibMode); }
    public ConvertOptions withForce(boolean f) { return new ConvertOptions(model, out, kvHeads, strategyOptions, dtype, shardSize, f, calibFiles, calibTokens, calibDevice, calibMode); }
    /** Where calibration runs ({@code cpu}, {@code gpu}, {@code gpu:N}) and whether one decoder layer at a time. */
    public ConvertOptions withCalibrationDevice(String device, Calibration.Mode mode) { return new ConvertOptions(model, out, kvHeads, strategyOptions, dtype, shardSize, force, calibFiles, calibTokens, device, mode); }
    public ConvertOptions withCalibration(List<Path> files, int tokens) { return new ConvertOptions(model, out, kvHeads, strategyOptions, dtype, shardSize, force, files, tokens, calibDevice, calibMode); }
}
