package io.headfuse.converter;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.headfuse.converter.report.ConvertedView;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.DType;
import io.headfuse.formats.HeapTensor;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaNames;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionResult;
import io.headfuse.fusion.FusionStrategy;
import io.headfuse.fusion.LayerPlan;
import io.headfuse.fusion.dha.DhaCollapse;
import io.headfuse.fusion.dha.DhaOptions;
import io.headfuse.fusion.dha.DhaStrategy;
import io.headfuse.fusion.dha.FusionDifficulty;
import io.headfuse.fusion.dha.FusionRecipe;
import io.headfuse.fusion.dha.GroupFuser;
import io.headfuse.fusion.dha.MemberProjections;
import io.headfuse.uptrain.fusion.LearnedFusion;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.model.TorchRuntime;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import io.headfuse.uptrain.train.TrainListener;
import io.headfuse.uptrain.train.Trainer;
import io.headfuse.uptrain.train.TrainerSettings;
import io.headfuse.uptrain.train.TrainingData;
import io.headfuse.uptrain.train.TrainingReport;
import io.headfuse.uptrain.train.UptrainRecipe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * DHA's learned fusion, the pipeline around {@link LearnedFusion}: the aligned start model
 * ({@link MemberProjections#start}, still MHA, computes the teacher's logits), its fusion operators trained by the
 * ordinary {@link Trainer} (distillation from the original model + the augmented-Lagrangian fusion loss), the
 * fused weights copied to the heap, then every group collapsed by {@link DhaCollapse} (aligned and least-squares
 * pooled, as the zero-shot path does). The plan of the result carries the training log ({@link #LOG}): KL and
 * fusion loss per layer against tokens, which {@code dha.png} draws.
 */
public final class DhaFusionTraining implements GroupFuser {
    /** Plan detail key of the training log. */
    public static final String LOG = io.headfuse.converter.report.DhaChart.LOG_KEY;

    private final DhaOptions options;
    private final LearnedFusion.Settings settings;
    private final Progress progress;

    /** Trains as {@code options.fusionRecipe()} says, on {@code options.data()}. */
    public DhaFusionTraining(DhaOptions options, Progress progress) {
        this.options = options;
        this.settings = settings(options.fusionRecipe());
        this.progress = progress;
    }

    /**
     * {@code strategy} with a fuser attached when it is DHA with {@code --data}; otherwise as it is. The data files and
     * the fusion recipe against the model's positions are checked here, before calibration loads anything.
     */
    public static FusionStrategy attachIfNeeded(FusionStrategy strategy, LlamaConfig config, Progress progress) throws IOException {
        if (!(strategy instanceof DhaStrategy dha) || !dha.needsFuser()) return strategy;
        dha.options().checkFusion(config.maxPositions());
        for (Path f : dha.options().data()) if (!Files.isRegularFile(f)) throw new NoSuchFileException(f.toString(), null, "no such file (--data)");
        return dha.withFuser(new DhaFusionTraining(dha.options(), progress));
    }

    /** The operators' settings of a fusion recipe (the recipe is plain numbers in fusion; the settings live with the runtime). */
    public static LearnedFusion.Settings settings(FusionRecipe r) {
        return new LearnedFusion.Settings(r.rho(), r.multiplierEvery(), r.operatorLr());
    }

    @Override
    public FusionResult fuse(Checkpoint in, FusionPlan plan, CalibrationStats stats) throws IOException {
        long t0 = System.nanoTime();
        ConvertedView start = new ConvertedView(in, MemberProjections.start(in, plan, stats));
        FusionRecipe r = options.fusionRecipe();
        int seq = r.window(in.config().maxPositions());
        UptrainRecipe recipe = UptrainRecipe.defaults(options.fusionTokens(), seq).withBatch(r.batch()).withLr(r.lr());
        recipe.requireOneStep();
        TrainingData data;
        try (TextTokenizer tok = Tokenizers.forModel(in.source())) {
            data = TrainingData.load(tok, options.data(), UptrainOptions.DEFAULT_HOLDOUT, seq);
        }
        List<int[][]> k = plan.layers().stream().map(LayerPlan::kGroups).toList(), v = plan.layers().stream().map(LayerPlan::vGroups).toList();
        Device device = TorchRuntime.device(options.device());
        Map<String, TensorSource> fused = new LinkedHashMap<>();
        TrainingReport report;
        List<LearnedFusion.Point> history;
        double[] finalLoss;
        CollapseCheck check;
        FusionResult collapsed;
        try (LlamaModel teacher = LlamaModel.load(in, device);
             LlamaModel student = LlamaModel.load(start, start.config(), device);
             LearnedFusion fusion = new LearnedFusion(student, k, v, settings, recipe.lr());
             Trainer trainer = new Trainer(teacher, student, data, List.of(), recipe, TrainerSettings.defaults(seq).withLogEvery(1), fusion)) {
            student.setLayerTransform(fusion);
            progress.start("learned fusion", recipe.steps(), "steps", 1);
            try {
                report = trainer.run(new TrainListener() {
                    @Override public void stepped(int step, long tokens, double lr, Double loss) { progress.advance(1); }
                }, null);
            } finally {
                progress.close();
            }
            // The fused model on the heap: trained weights as they are, K/V as the operators make them.
            for (var e : student.weights().parameters().entrySet()) {
                String name = e.getKey();
                long[] shape = e.getValue().getShape().getShape();
                float[] values = e.getValue().toFloatArray();
                for (int l = 0; l < plan.layers().size(); l++) {
                    if (name.equals(LlamaNames.k(l))) values = fusion.projection(l, false);
                    if (name.equals(LlamaNames.v(l))) values = fusion.projection(l, true);
                    if (name.equals(LlamaNames.kBias(l))) values = fusion.bias(l, false);
                    if (name.equals(LlamaNames.vBias(l))) values = fusion.bias(l, true);
                }
                fused.put(name, HeapTensor.of(name, DType.F32, shape, values));
            }
            history = fusion.history();
            finalLoss = fusion.fusionLoss();
            FusionResult fusedModel = new FusionResult(start.config(), fused, plan);
            collapsed = DhaCollapse.apply(new ConvertedView(in, fusedModel), plan, stats, FusionDifficulty.METHOD);
            check = checkCollapse(in, fused, collapsed, teacher, student, data, seq, device);
        }
        Map<String, TensorSource> out = new LinkedHashMap<>(fused);
        out.putAll(collapsed.replacements());
        Map<String, Object> details = new LinkedHashMap<>(plan.details());
        Map<String, Object> log = log(report, history, finalLoss, (System.nanoTime() - t0) / 1e9);
        log.put("collapse", check.toMap());
        details.put(LOG, log);
        FusionPlan logged = new FusionPlan(plan.strategy(), plan.heads(), plan.kvHeads(), plan.layers(), details);
        return new FusionResult(collapsed.config(), out, logged);
    }

    /** Collapse cost on one batch the training did not draw (seed 1; training uses the recipe's seed 0). */
    private static CollapseCheck checkCollapse(Checkpoint in, Map<String, TensorSource> fused, FusionResult collapsed, LlamaModel teacher,
                                               LlamaModel student, TrainingData data, int seq, Device device) throws IOException {
        Map<String, TensorSource> all = new LinkedHashMap<>(fused);
        all.putAll(collapsed.replacements());
        ConvertedView view = new ConvertedView(in, new FusionResult(collapsed.config(), all, collapsed.plan()));
        try (LlamaModel c = LlamaModel.load(view, device); NDManager m = student.manager().newSubManager()) {
            return CollapseCheck.measure(teacher, student, c, data.batch(m, 1, 0, 4, seq));
        }
    }

    private Map<String, Object> log(TrainingReport r, List<LearnedFusion.Point> history, double[] finalLoss, double seconds) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokens", r.tokens());
        m.put("steps", r.steps());
        m.put("seq", r.recipe().seq());
        m.put("batch", r.recipe().batch());
        m.put("lr", r.recipe().lr());
        m.put("operator_lr", settings.operatorLr());
        m.put("rho", settings.rho());
        m.put("multiplier_every", settings.every());
        m.put("data", options.data().stream().map(p -> p.getFileName().toString()).toList());
        m.put("seconds", seconds);
        m.put("final_fusion_loss", finalLoss);
        List<Map<String, Object>> points = new ArrayList<>();
        for (int i = 0; i < history.size(); i++) {
            LearnedFusion.Point p = history.get(i);
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("step", p.step());
            q.put("tokens", p.tokens());
            if (i < r.losses().size()) q.put("kl", r.losses().get(i).loss());
            q.put("fusion_loss", p.fusionLoss());
            q.put("lambda", p.lambda());
            points.add(q);
        }
        m.put("points", points);
        return m;
    }
}
