package io.headfuse.converter;

import io.headfuse.formats.CastTensor;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaShapes;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.formats.safetensors.HfCheckpointWriter;
import io.headfuse.formats.safetensors.SafetensorsWriter;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionRequest;
import io.headfuse.fusion.FusionResult;
import io.headfuse.fusion.FusionStrategy;
import io.headfuse.fusion.Strategies;
import io.headfuse.converter.report.DhaChart;
import io.headfuse.converter.report.SimilarityHeatmap;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The library entry point. A pipeline converts a checkpoint with one call:
 * <pre>{@code
 * ConversionReport r = Headfuse.convert(ConvertOptions.of(Path.of("llama-mha"), Path.of("llama-gqa4"), 4));
 * }</pre>
 * Any supported input format is read (HF safetensors, Meta .pth, llama2.c .bin); the output is always an HF
 * folder that transformers loads unchanged (unless K and V are grouped differently, see {@link ConversionReport}).
 */
public final class Headfuse {
    private Headfuse() {}

    /** Describes a checkpoint without converting it. */
    public static ModelInfo inspect(Path model) throws IOException {
        try (Checkpoint ckpt = Checkpoints.open(model)) {
            LlamaShapes.validate(ckpt);   // the report is computed from the config: refuse one that its tensors contradict
            return ModelInfo.of(ckpt);
        }
    }

    public static ConversionReport convert(ConvertOptions o) throws IOException {
        return convert(o, Progress.NONE);
    }

    public static ConversionReport convert(ConvertOptions o, Progress progress) throws IOException {
        return convert(o, Strategies.create(o.strategyOptions()), progress);
    }

    /**
     * Converts with a strategy built by the caller (e.g. a {@code DhaStrategy} with a probe of its own);
     * {@code o.strategyOptions()} is then ignored.
     */
    public static ConversionReport convert(ConvertOptions o, FusionStrategy strategy, Progress progress) throws IOException {
        long t0 = System.nanoTime();
        HfCheckpointWriter.checkTarget(o.out(), o.force(), List.of(o.model()));
        try (Checkpoint in = Checkpoints.open(o.model())) {
            strategy = DhaFusionTraining.attachIfNeeded(strategy, in.config(), progress);
            FusionRequest request = request(in, strategy, o, progress);
            strategy = DhaLossProbe.attachIfNeeded(strategy, in, request, o);
            FusionResult result = strategy.apply(in, plan(strategy, in, request, progress), request);
            FusionPlan plan = result.plan();   // the strategy's plan, with what applying it learned (DHA's fusion log)

            DType before = in.storedDtype();
            DType after = o.dtype() != null ? o.dtype() : before;
            List<TensorSource> tensors = outputTensors(in, result, after);
            LlamaConfig config = result.config().withDtype(after);
            int shards = SafetensorsWriter.plan(tensors, o.shardSize()).size();
            long total = tensors.stream().mapToLong(TensorSource::byteSize).sum();

            ConversionReport report = new ConversionReport(in.source(), in.format(), o.out(), plan, in.config().numKvHeads(), plan.kvHeads(),
                    before, after, in.config().kvBytesPerToken(before), config.kvBytesPerToken(after), shards, !config.hasHeadMaps(),
                    TokenizerFiles.of(in.sideFiles()), 0);
            progress.start("convert", total, "MiB", 1 << 20);
            ConversionReport[] done = new ConversionReport[1];
            try {
                HfCheckpointWriter.write(o.out(), new HfCheckpointWriter.Contents(config, tensors, in.sideFiles(), () -> {
                    done[0] = report.withWallSeconds((System.nanoTime() - t0) / 1e9);
                    Map<String, byte[]> files = new java.util.LinkedHashMap<>();
                    files.put(ConversionReport.FILE, done[0].toJsonString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    heatmap(plan, o).ifPresent(png -> files.put(SimilarityHeatmap.FILE, png));
                    dhaChart(plan, o).ifPresent(png -> files.put(DhaChart.FILE, png));
                    return files;
                }), o.shardSize(), o.force(), List.of(o.model()), progress::advance);
            } finally {
                progress.close();
            }
            return done[0];
        }
    }

    /**
     * Uptrains a converted student towards its teacher (distillation by default) and writes the result as an HF
     * folder: {@code convert -> uptrain -> compare} is the whole pipeline.
     */
    public static UptrainReport uptrain(UptrainOptions o) throws IOException {
        return uptrain(o, Progress.NONE);
    }

    public static UptrainReport uptrain(UptrainOptions o, Progress progress) throws IOException {
        return UptrainPipeline.run(o, progress);
    }

    /** The training window {@code headfuse uptrain} uses unless told: the smaller of 1024 and the model's positions. */
    public static int defaultSeq(Path student) throws IOException {
        return UptrainPipeline.defaultSeq(student);
    }

    /**
     * Refuses DHA learned-fusion settings that do not fit {@code o.model()} (a window longer than its positions, a
     * budget under one step) with an IllegalArgumentException naming the flag; reads only the model's config.
     * {@link #convert} checks the same before calibration; the CLI calls this first to make them usage errors.
     */
    public static void checkFusion(ConvertOptions o) throws IOException {
        if (!(o.strategyOptions() instanceof io.headfuse.fusion.dha.DhaOptions d) || !d.learned()) return;
        try (Checkpoint in = Checkpoints.open(o.model())) {
            d.checkFusion(in.config().maxPositions());
        }
    }

    /** The groups a strategy would choose, without writing anything ({@code headfuse plan}). */
    public static FusionPlan plan(ConvertOptions o, Progress progress) throws IOException {
        return plan(o, Strategies.create(o.strategyOptions()), progress);
    }

    /** {@link #plan(ConvertOptions, Progress)} with a strategy built by the caller. */
    public static FusionPlan plan(ConvertOptions o, FusionStrategy strategy, Progress progress) throws IOException {
        try (Checkpoint in = Checkpoints.open(o.model())) {
            FusionRequest request = request(in, strategy, o, progress);
            return plan(DhaLossProbe.attachIfNeeded(strategy, in, request, o), in, request, progress);
        }
    }

    /**
     * {@code strategy.plan} as a progress task of one unit per layer, for the strategies that search per layer
     * (asym and DHA: minutes on a 7B, where a silent log would look hung); the request advances it.
     */
    private static FusionPlan plan(FusionStrategy strategy, Checkpoint in, FusionRequest request, Progress progress) throws IOException {
        if (!strategy.needsCalibration()) return strategy.plan(in, request);
        progress.start("plan " + strategy.name(), in.config().numLayers(), "layers", 1);
        try {
            return strategy.plan(in, request);
        } finally {
            progress.close();
        }
    }

    private static FusionRequest request(Checkpoint in, FusionStrategy strategy, ConvertOptions o, Progress progress) throws IOException {
        LlamaShapes.validate(in);
        LlamaConfig c = in.config();
        if (o.kvHeads() <= 0 || c.numHeads() % o.kvHeads() != 0)
            throw new IllegalArgumentException("--kv-heads " + o.kvHeads() + " does not divide the " + c.numHeads() + " attention heads of " + in.source());
        CalibrationStats stats = null;
        if (strategy.needsCalibration()) {
            if (o.calibFiles().isEmpty()) throw new IllegalArgumentException("strategy " + strategy.name() + " needs calibration text: pass --calib FILE");
            stats = Calibration.gather(in, o.calibFiles(), o.calibTokens(), progress,
                    io.headfuse.uptrain.model.TorchRuntime.device(o.calibDevice()), o.calibMode());
        } else if (!o.calibFiles().isEmpty()) {
            throw new IllegalArgumentException("strategy " + strategy.name() + " uses no calibration text, but calibration files were given: " + o.calibFiles());
        }
        return new FusionRequest(o.kvHeads(), stats, (layer, layers) -> progress.advance(1));
    }

    /** Input tensors in canonical order, each replaced where the strategy rewrote it, cast to the output dtype. */
    static List<TensorSource> outputTensors(Checkpoint in, FusionResult result, DType dtype) {
        return result.applyTo(LlamaShapes.canonicalOrder(in.tensors())).stream().map(t -> CastTensor.of(t, dtype)).toList();
    }

    /**
     * Heatmaps of the head similarities a strategy measured (asym), to be written beside the weights. The weights
     * matter more than the picture: a drawing failure is reported and leaves the PNG out, it does not fail the
     * conversion.
     */
    private static java.util.Optional<byte[]> dhaChart(FusionPlan plan, ConvertOptions o) {
        try {
            return DhaChart.png(plan, o.model().getFileName() + " -> " + plan.kvHeads() + " kv heads on average: " + plan.details().getOrDefault("method", plan.strategy()));
        } catch (IOException | RuntimeException | LinkageError e) {
            System.err.println("headfuse: warning: could not draw " + DhaChart.FILE + ": " + e);
            return java.util.Optional.empty();
        }
    }

    private static java.util.Optional<byte[]> heatmap(FusionPlan plan, ConvertOptions o) {
        try {
            return SimilarityHeatmap.png(plan, o.model().getFileName() + " -> " + plan.kvHeads() + " kv heads: "
                    + plan.details().getOrDefault("method", plan.strategy()));
        } catch (IOException | RuntimeException | LinkageError e) {
            System.err.println("headfuse: warning: could not draw the head-similarity heatmaps: " + e);
            return java.util.Optional.empty();
        }
    }
}
