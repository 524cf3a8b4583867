package io.headfuse.converter;

import io.headfuse.formats.DType;
import io.headfuse.formats.safetensors.SafetensorsWriter;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything a conversion needs. Start from {@link #of} and change what differs with the {@code with*} methods.
 *
 * @param dtype output dtype, or null to keep the input's
 * @param calibFiles text the model is run on, for activation-informed strategies
 * @param align rotate heads into alignment before pooling (asym)
 * @param leastSquares pool by least squares instead of the plain mean (asym)
 * @param coupled one grouping for K and V, so plain transformers loads the result (asym)
 * @param settings further strategy settings passed through as they are (asym: search=swaps|ward,
 *                 objective=reconstruction|similarity, similarity=cosine|cka)
 */
public record ConvertOptions(Path model, Path out, int kvHeads, String strategy, DType dtype, long shardSize, boolean force,
                             List<Path> calibFiles, int calibTokens, boolean align, boolean leastSquares, boolean coupled, long seed,
                             java.util.Map<String, String> settings) {
    public static final int DEFAULT_CALIB_TOKENS = 65536;

    public ConvertOptions {
        calibFiles = List.copyOf(calibFiles);
        settings = java.util.Map.copyOf(settings);
    }

    public static ConvertOptions of(Path model, Path out, int kvHeads) {
        return new ConvertOptions(model, out, kvHeads, "mean", null, SafetensorsWriter.DEFAULT_SHARD_SIZE, false,
                List.of(), DEFAULT_CALIB_TOKENS, false, false, false, 0, java.util.Map.of());
    }

    public ConvertOptions withStrategy(String s) { return new ConvertOptions(model, out, kvHeads, s, dtype, shardSize, force, calibFiles, calibTokens, align, leastSquares, coupled, seed, settings); }
    public ConvertOptions withDtype(DType d) { return new ConvertOptions(model, out, kvHeads, strategy, d, shardSize, force, calibFiles, calibTokens, align, leastSquares, coupled, seed, settings); }
    public ConvertOptions withShardSize(long s) { return new ConvertOptions(model, out, kvHeads, strategy, dtype, s, force, calibFiles, calibTokens, align, leastSquares, coupled, seed, settings); }
    public ConvertOptions withForce(boolean f) { return new ConvertOptions(model, out, kvHeads, strategy, dtype, shardSize, f, calibFiles, calibTokens, align, leastSquares, coupled, seed, settings); }
    public ConvertOptions withCalibration(List<Path> files, int tokens) { return new ConvertOptions(model, out, kvHeads, strategy, dtype, shardSize, force, files, tokens, align, leastSquares, coupled, seed, settings); }
    /** A copy with one more strategy setting. */
    public ConvertOptions withSetting(String key, String value) {
        java.util.Map<String, String> m = new java.util.TreeMap<>(settings);
        m.put(key, value);
        return new ConvertOptions(model, out, kvHeads, strategy, dtype, shardSize, force, calibFiles, calibTokens, align, leastSquares, coupled, seed, m);
    }

    public ConvertOptions withAsym(boolean al, boolean lsq, boolean cpl, long sd) { return new ConvertOptions(model, out, kvHeads, strategy, dtype, shardSize, force, calibFiles, calibTokens, al, lsq, cpl, sd, settings); }
}
