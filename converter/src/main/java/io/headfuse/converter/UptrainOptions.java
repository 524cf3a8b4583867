package io.headfuse.converter;

import io.headfuse.formats.DType;
import io.headfuse.uptrain.train.TrainerSettings;
import io.headfuse.uptrain.train.UptrainRecipe;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything an uptraining run needs. Start from {@link #of} and change what differs with the {@code with*}
 * methods; the recipe ({@link UptrainRecipe}) and the watch settings ({@link TrainerSettings}) validate themselves.
 *
 * @param teacher   the original model (any format headfuse reads)
 * @param student   its conversion (its kv maps, coupled or not, are kept)
 * @param data      training text; the last {@code holdout} of each file's tokens is never trained on
 * @param out       the HF folder to write (atomically)
 * @param recipe    what is trained, and how ({@link Headfuse#defaultSeq} gives the window the CLI uses)
 * @param settings  evaluation, logging and saving intervals, or null for evaluations before and after only, at
 *                  the training window
 * @param holdout   fraction of each data file's tokens kept out of training (and evaluated)
 * @param evalFiles evaluate these files' held-out slices instead of the data files' (none: the data files')
 * @param dtype     output dtype, or null for the student's
 * @param device    cpu, gpu or gpu:N
 * @param stateDir  where {@code saveEvery} writes the resumable state (null: OUT-state beside the output)
 * @param resume    a state to continue from, or null
 * @param fp16Weights keep frozen weights (the teacher's, and the student's that do not train) in fp16 on the
 *                  device, widened to fp32 where used: half their memory, for 7B-class pairs on one GPU
 */
public record UptrainOptions(Path teacher, Path student, List<Path> data, Path out, UptrainRecipe recipe, TrainerSettings settings,
                             double holdout, List<Path> evalFiles, DType dtype, String device, boolean force, Path stateDir, Path resume,
                             boolean fp16Weights) {
    public static final double DEFAULT_HOLDOUT = 0.02;

    public UptrainOptions {
        data = List.copyOf(data);
        evalFiles = List.copyOf(evalFiles);
        if (!(holdout >= 0 && holdout < 1)) throw new IllegalArgumentException("--holdout must be in [0, 1), got " + holdout);
        if (dtype != null && !dtype.isFloat()) throw new IllegalArgumentException("--dtype must be a floating-point type, got " + dtype);
    }

    /** The default recipe (distill_ref.py's, for {@link UptrainRecipe#DEFAULT_TOKENS} tokens) on the CPU. */
    public static UptrainOptions of(Path teacher, Path student, List<Path> data, Path out) {
        return new UptrainOptions(teacher, student, data, out, UptrainRecipe.defaults(UptrainRecipe.DEFAULT_TOKENS, 1024), null,
                DEFAULT_HOLDOUT, List.of(), null, "cpu", false, null, null, false);
    }

    public UptrainOptions withRecipe(UptrainRecipe r) { return new UptrainOptions(teacher, student, data, out, r, settings, holdout, evalFiles, dtype, device, force, stateDir, resume, fp16Weights); }

    public UptrainOptions withSettings(TrainerSettings s) { return new UptrainOptions(teacher, student, data, out, recipe, s, holdout, evalFiles, dtype, device, force, stateDir, resume, fp16Weights); }

    public UptrainOptions withHoldout(double h) { return new UptrainOptions(teacher, student, data, out, recipe, settings, h, evalFiles, dtype, device, force, stateDir, resume, fp16Weights); }

    public UptrainOptions withEvalFiles(List<Path> f) { return new UptrainOptions(teacher, student, data, out, recipe, settings, holdout, f, dtype, device, force, stateDir, resume, fp16Weights); }

    public UptrainOptions withDtype(DType d) { return new UptrainOptions(teacher, student, data, out, recipe, settings, holdout, evalFiles, d, device, force, stateDir, resume, fp16Weights); }

    public UptrainOptions withDevice(String d) { return new UptrainOptions(teacher, student, data, out, recipe, settings, holdout, evalFiles, dtype, d, force, stateDir, resume, fp16Weights); }

    public UptrainOptions withForce(boolean f) { return new UptrainOptions(teacher, student, data, out, recipe, settings, holdout, evalFiles, dtype, device, f, stateDir, resume, fp16Weights); }

    public UptrainOptions withStateDir(Path d) { return new UptrainOptions(teacher, student, data, out, recipe, settings, holdout, evalFiles, dtype, device, force, d, resume, fp16Weights); }

    public UptrainOptions withResume(Path d) { return new UptrainOptions(teacher, student, data, out, recipe, settings, holdout, evalFiles, dtype, device, force, stateDir, d, fp16Weights); }

    public UptrainOptions withFp16Weights(boolean f) { return new UptrainOptions(teacher, student, data, out, recipe, settings, holdout, evalFiles, dtype, device, force, stateDir, resume, f); }

    /** Where resumable states go. */
    public Path stateFolder() {
        if (stateDir != null) return stateDir;
        Path abs = out.toAbsolutePath().normalize();
        return abs.resolveSibling(abs.getFileName() + "-state");
    }
}
