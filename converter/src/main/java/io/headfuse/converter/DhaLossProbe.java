package io.headfuse.converter;

import ai.djl.Device;
import io.headfuse.converter.report.ConvertedView;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionRequest;
import io.headfuse.fusion.FusionStrategy;
import io.headfuse.fusion.LayerPlan;
import io.headfuse.fusion.asym.Grouping;
import io.headfuse.fusion.dha.CollapseProbe;
import io.headfuse.fusion.dha.DhaCollapse;
import io.headfuse.fusion.dha.DhaStrategy;
import io.headfuse.fusion.dha.FusionDifficulty;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.TokenStream;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * DHA's {@link CollapseProbe} on the CPU runtime: the mean NLL of the first calibration tokens with one layer
 * collapsed (every other layer kept as it is), minus the original model's. Each probe loads the collapsed model
 * afresh, so its cost is a model load plus a short evaluation.
 */
public final class DhaLossProbe implements CollapseProbe {
    private final Checkpoint in;
    private final CalibrationStats stats;
    private final TokenStream tokens;
    private final double base;

    public DhaLossProbe(Checkpoint in, CalibrationStats stats, List<Path> calibFiles, int probeTokens) throws IOException {
        this.in = in;
        this.stats = stats;
        if (calibFiles.isEmpty()) throw new IllegalArgumentException("DHA's loss probes need calibration text: pass --calib FILE");
        String text = Perplexity.readText(calibFiles.get(0));
        text = text.substring(0, (int) Math.min(text.length(), 8L * probeTokens + 1024));
        try (TextTokenizer tok = Tokenizers.forModel(in.source())) {
            this.tokens = TokenStream.of(tok, text, EvalOptions.defaults().withMaxTokens(probeTokens));
        }
        int heads = in.config().numHeads();
        this.base = nll(-1, Grouping.contiguous(heads, heads), Grouping.contiguous(heads, heads));
    }

    /** {@code strategy} with a probe attached when it is DHA priced by calibration loss; otherwise as it is. */
    public static FusionStrategy attachIfNeeded(FusionStrategy strategy, Checkpoint in, FusionRequest request, ConvertOptions o) throws IOException {
        if (!(strategy instanceof DhaStrategy dha) || !dha.needsProbe()) return strategy;
        return dha.withProbe(new DhaLossProbe(in, request.calibration(), o.calibFiles(), dha.options().probeTokens()));
    }

    @Override
    public double lossIncrease(int layer, Grouping k, Grouping v) throws IOException {
        return nll(layer, k, v) - base;
    }

    private double nll(int layer, Grouping k, Grouping v) throws IOException {
        int heads = in.config().numHeads();
        int[][] singles = Grouping.contiguous(heads, heads).allMembers();
        List<LayerPlan> layers = new ArrayList<>();
        for (int l = 0; l < in.config().numLayers(); l++)
            layers.add(l == layer ? new LayerPlan(l, k.allMembers(), v.allMembers(), 0) : new LayerPlan(l, singles, singles, 0));
        FusionPlan plan = new FusionPlan(DhaStrategy.NAME, heads, heads, layers, Map.of());
        ConvertedView view = new ConvertedView(in, DhaCollapse.apply(in, plan, stats, FusionDifficulty.METHOD));
        try (LlamaModel m = LlamaModel.load(view, view.config(), Device.cpu())) {
            return Perplexity.evaluate(m, tokens, EvalOptions.defaults()).nll();
        }
    }
}
