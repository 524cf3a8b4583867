package io.headfuse.uptrain.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.model.FusedKernels;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.model.TorchRuntime;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The uptraining loop: a converted student learns its teacher's output distribution (or the data's next tokens).
 * Each step draws {@code accum} micro-batches of seeded random windows, runs the frozen teacher without gradients,
 * runs the student forward and backward, clips the global gradient norm and takes an AdamW step, all inside one
 * NDManager scope, so native and device memory stay flat however long it runs. DJL's own trainer is not used: its
 * gradient clipping is element-wise and its multi-device training sums gradients.
 *
 * <p>The loop is deterministic for a seed on the CPU (window order is counter-based, see {@link TrainingData}), and
 * its whole state (weights, moments, step, curves) can be saved and restored, so a resumed run continues exactly as
 * an uninterrupted one would. DHA's fusion training reuses it.
 */
public final class Trainer implements AutoCloseable {
    private final LlamaModel teacher;
    private final LlamaModel student;
    private final TrainingData data;
    private final List<TrainingData.Slice> evalSlices;
    private final UptrainRecipe recipe;
    private final TrainerSettings settings;
    private final TrainingExtension extension;
    private final NDManager state;
    private final AdamW optimizer;
    private final NDArray lossSum;
    private final NDArray normSum;
    private final List<TrainingReport.LossPoint> losses = new ArrayList<>();
    private final List<TrainingReport.EvalPoint> evals = new ArrayList<>();
    private int step;
    private int resumedAt;
    private double trainSeconds;

    /**
     * Prepares {@code student} for training against {@code teacher} (null only for the CE loss, which needs no
     * teacher): marks the recipe's parameters as trainable and allocates their moments on the student's device.
     */
    public Trainer(LlamaModel teacher, LlamaModel student, TrainingData data, List<TrainingData.Slice> evalSlices,
                   UptrainRecipe recipe, TrainerSettings settings) {
        this(teacher, student, data, evalSlices, recipe, settings, TrainingExtension.NONE);
    }

    /**
     * As above, with {@code extension}'s parameters trained beside the recipe's (its derived student weights left
     * out) and its loss added to the distillation loss. The logged loss stays the distillation loss alone.
     */
    public Trainer(LlamaModel teacher, LlamaModel student, TrainingData data, List<TrainingData.Slice> evalSlices,
                   UptrainRecipe recipe, TrainerSettings settings, TrainingExtension extension) {
        if (teacher == null && recipe.loss() != UptrainRecipe.Loss.CE)
            throw new IllegalArgumentException("loss " + recipe.loss().label() + " needs a teacher");
        recipe.requireOneStep();
        if (teacher != null) checkCompatible(teacher.config(), null, student.config(), null);
        this.teacher = teacher;
        this.student = student;
        this.data = data;
        this.evalSlices = List.copyOf(evalSlices);
        this.recipe = recipe;
        this.settings = settings;
        this.state = student.manager().newSubManager();
        List<TrainableParameter> params = new ArrayList<>();
        this.extension = extension;
        for (var e : student.weights().parameters().entrySet()) {
            boolean train = trains(recipe.scope(), e.getKey()) && !extension.derived().contains(e.getKey());
            e.getValue().setRequiresGradient(train);
            if (!train) continue;
            NDArray w = e.getValue();
            double scale = isKv(e.getKey()) ? recipe.kvLrScale() : 1.0;
            params.add(new TrainableParameter(e.getKey(), w, state.zeros(w.getShape()), state.zeros(w.getShape()), scale));
        }
        for (TrainingExtension.Parameter p : extension.parameters()) {
            p.value().setRequiresGradient(true);
            params.add(new TrainableParameter(p.name(), p.value(), state.zeros(p.value().getShape()), state.zeros(p.value().getShape()), p.lrScale()));
        }
        if (params.isEmpty()) throw new IllegalArgumentException("--train " + recipe.scope().label() + " selects no parameter of the student");
        this.optimizer = new AdamW(params, UptrainRecipe.BETA1, UptrainRecipe.BETA2, UptrainRecipe.EPS, UptrainRecipe.WEIGHT_DECAY);
        this.lossSum = state.zeros(new Shape());
        this.normSum = state.zeros(new Shape());
    }

    /**
     * Refuses a teacher and student that cannot be distilled position by position: another vocabulary, hidden size
     * or layer count. The paths, when given, name the models in the message.
     */
    public static void checkCompatible(LlamaConfig teacher, Path teacherPath, LlamaConfig student, Path studentPath) {
        String t = teacherPath == null ? "teacher" : "teacher " + teacherPath;
        String s = studentPath == null ? "student" : "student " + studentPath;
        if (teacher.vocabSize() != student.vocabSize())
            throw new IllegalArgumentException(s + " has a vocabulary of " + student.vocabSize() + " tokens, " + t + " of " + teacher.vocabSize()
                    + ": distillation needs the same tokenizer");
        if (teacher.hiddenSize() != student.hiddenSize())
            throw new IllegalArgumentException(s + " has hidden size " + student.hiddenSize() + ", " + t + " " + teacher.hiddenSize()
                    + ": the student must be a conversion of the teacher");
        if (teacher.numLayers() != student.numLayers())
            throw new IllegalArgumentException(s + " has " + student.numLayers() + " layers, " + t + " " + teacher.numLayers()
                    + ": the student must be a conversion of the teacher");
    }

    /** Whether the recipe scope {@code scope} trains the parameter {@code name} (HF name). */
    public static boolean trains(UptrainRecipe.Scope scope, String name) {
        return switch (scope) {
            case ALL -> true;
            case ATTENTION -> name.contains(".self_attn.");
            case KV -> isKv(name);
        };
    }

    private static boolean isKv(String name) { return name.contains(".k_proj.") || name.contains(".v_proj."); }

    public UptrainRecipe recipe() { return recipe; }

    public LlamaModel student() { return student; }

    /** Steps taken so far. */
    public int step() { return step; }

    /** Names of the parameters that train, in optimiser order. */
    public List<String> trainableNames() { return optimizer.parameters().stream().map(TrainableParameter::name).toList(); }

    /**
     * Runs the remaining steps. Evaluates the held-out slices first (unless resumed past that), every
     * {@code evalEvery} tokens, and not at the end: the caller measures the weights it writes (see
     * {@link #evaluate(String)}). Calls {@code saver} every {@code saveEvery} tokens.
     */
    public TrainingReport run(TrainListener listener, StateSaver saver) throws IOException {
        int steps = recipe.steps();
        long perStep = recipe.tokensPerStep();
        int logEvery = settings.logInterval(steps);
        listener.started(step, steps, perStep);
        if (step == 0 && evals.isEmpty() && !evalSlices.isEmpty()) record(listener, evaluate(null));
        int pending = 0;
        while (step < steps) {
            long t0 = System.nanoTime();
            double lr = recipe.lr() * recipe.lrFactor(step);
            try (NDManager sm = student.manager().newSubManager()) {
                computeGradients(sm);
                normSum.addi(clipAndUpdate(sm, lr));
            }
            step++;
            pending++;
            long tokens = step * perStep;
            extension.stepped(step, tokens);
            boolean evalDue = crossed(settings.evalEvery(), tokens, perStep) && step < steps;
            boolean saveDue = saver != null && crossed(settings.saveEvery(), tokens, perStep) && step < steps;
            Double loss = null;
            if (pending == logEvery || step == steps || evalDue || saveDue) {
                loss = lossSum.getFloat() / (double) pending;           // waits for the device: the step is done
                double norm = normSum.getFloat() / (double) pending;
                losses.add(new TrainingReport.LossPoint(step, tokens, loss, norm, lr));
                lossSum.muli(0f);
                normSum.muli(0f);
                pending = 0;
            }
            trainSeconds += (System.nanoTime() - t0) / 1e9;
            listener.stepped(step, tokens, lr, loss);
            if (evalDue) record(listener, evaluate(null));
            if (saveDue) listener.saved(saver.save(this), step);
        }
        return report();
    }

    /**
     * Runs this step's micro-batches forward and backward, leaving their gradients summed in the trainable
     * parameters and their losses added to the running sum.
     */
    void computeGradients(NDManager sm) {
        Engine engine = TorchRuntime.engine();
        for (int micro = 0; micro < recipe.accum(); micro++) {
            // Each micro-batch in its own scope: DJL keeps every intermediate until its manager closes, so without
            // this a step with accumulation holds all its micro-batches' activations at once (a 7B model at seq
            // 2048 ran out of 140 GB that way). Gradients live in the parameters, the loss sum in the state.
            try (NDManager mb = sm.newSubManager()) {
                NDArray ids = batch(mb, micro);
                NDArray teacherLogits = teacherLogits(ids);
                NDArray loss;
                try (GradientCollector gc = engine.newGradientCollector()) {
                    loss = DistillLoss.of(recipe, student.forward(ids), teacherLogits, ids);
                    if (recipe.accum() > 1) loss = loss.div(recipe.accum());
                    NDArray extra = extension.loss(mb);
                    gc.backward(extra == null ? loss : loss.add(recipe.accum() > 1 ? extra.div(recipe.accum()) : extra));
                }
                lossSum.addi(loss.stopGradient());
            }
        }
    }

    /** The ids of micro-batch {@code micro} of the current step. */
    NDArray batch(NDManager sm, int micro) {
        long first = ((long) step * recipe.accum() + micro) * recipe.batch();
        return data.batch(sm, recipe.seed(), first, recipe.batch(), recipe.seq());
    }

    /** The frozen teacher's logits for {@code ids}, on the student's device (null when the loss needs none). */
    private NDArray teacherLogits(NDArray ids) {
        if (recipe.loss() == UptrainRecipe.Loss.CE) return null;
        try (NoGrad off = new NoGrad()) {
            return teacher.forward(ids.toDevice(teacher.device(), false)).toDevice(student.device(), false);
        }
    }

    /** The loss of the current weights on micro-batch {@code micro} of the current step, without gradients. */
    double loss(NDManager sm, int micro) {
        NDArray ids = batch(sm, micro);
        try (NoGrad off = new NoGrad()) {
            return DistillLoss.of(recipe, student.forward(ids), teacherLogits(ids), ids).getFloat();
        }
    }

    /** Clips the summed gradients, takes the AdamW step at {@code lr} and zeroes them; returns the norm before clipping. */
    NDArray clipAndUpdate(NDManager sm, double lr) {
        try (NoGrad off = new NoGrad()) {
            FusedKernels fused = FusedKernels.get();
            if (fused != null) return optimizer.fusedStep(fused, sm, recipe.clipNorm(), lr, step + 1);
            List<NDArray> grads = optimizer.gradients(sm);
            NDArray norm = optimizer.clipGradients(grads, recipe.clipNorm());
            optimizer.update(sm, grads, lr, step + 1);
            optimizer.zeroGradients();
            return norm;
        }
    }

    /** The trainable parameters' current gradients, copied to the heap. */
    Map<String, float[]> gradients(NDManager sm) {
        Map<String, float[]> out = new LinkedHashMap<>();
        List<NDArray> grads = optimizer.gradients(sm);
        for (int i = 0; i < grads.size(); i++) out.put(optimizer.parameters().get(i).name(), grads.get(i).toFloatArray());
        return out;
    }

    /** Whether a multiple of {@code every} lies in (tokens - perStep, tokens]. */
    private static boolean crossed(long every, long tokens, long perStep) {
        return every > 0 && tokens / every > (tokens - perStep) / every;
    }

    private void record(TrainListener listener, TrainingReport.EvalPoint p) {
        evals.add(p);
        listener.evaluated(p);
    }

    /** Perplexity of the student on every held-out slice now, labelled with {@code note} (null: live weights). */
    public TrainingReport.EvalPoint evaluate(String note) {
        TrainingReport.EvalPoint p = evaluate(student, evalSlices, settings, note);
        return new TrainingReport.EvalPoint((long) step * recipe.tokensPerStep(), p.ppl(), note);
    }

    /** Perplexity of any model on {@code slices}, as the trainer measures its student (at token 0). */
    public static TrainingReport.EvalPoint evaluate(LlamaModel model, List<TrainingData.Slice> slices, TrainerSettings settings, String note) {
        Map<String, Double> ppl = new LinkedHashMap<>();
        EvalOptions o = new EvalOptions(settings.evalWindow(), 0, 0, false, "eval", 0);   // batch 0: the device's default
        try (NoGrad off = new NoGrad()) {
            for (TrainingData.Slice s : slices) ppl.put(s.name(), Perplexity.evaluate(model, s.stream(), o).ppl());
        }
        return new TrainingReport.EvalPoint(0, ppl, note);
    }

    /** Adds an evaluation made outside the loop (e.g. on the written weights) to the report. */
    public void addEvaluation(TrainingReport.EvalPoint p) { evals.add(p); }

    public TrainingReport report() {
        return new TrainingReport(recipe, step, (long) step * recipe.tokensPerStep(), trainSeconds, resumedAt, losses, evals);
    }

    /** The optimiser's moments of each trainable parameter: name -> {exp_avg, exp_avg_sq}. */
    Map<String, NDArray[]> moments() {
        Map<String, NDArray[]> out = new LinkedHashMap<>();
        for (TrainableParameter p : optimizer.parameters()) out.put(p.name(), new NDArray[] {p.expAvg(), p.expAvgSq()});
        return out;
    }

    double trainSeconds() { return trainSeconds; }

    List<TrainingReport.LossPoint> losses() { return losses; }

    List<TrainingReport.EvalPoint> evals() { return evals; }

    /** Continues from a saved state: step, time, curves (weights and moments are set by the caller). */
    void restore(int step, double trainSeconds, List<TrainingReport.LossPoint> losses, List<TrainingReport.EvalPoint> evals) {
        if (step > recipe.steps()) throw new IllegalArgumentException("the state is at step " + step + ", past the run's " + recipe.steps() + " steps");
        this.step = step;
        this.resumedAt = step;
        this.trainSeconds = trainSeconds;
        this.losses.clear();
        this.losses.addAll(losses);
        this.evals.clear();
        this.evals.addAll(evals);
    }

    /** Writes a resumable state of a trainer and says where. */
    @FunctionalInterface
    public interface StateSaver {
        Path save(Trainer trainer) throws IOException;
    }

    @Override public void close() { state.close(); }
}
