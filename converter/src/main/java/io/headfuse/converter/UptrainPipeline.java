package io.headfuse.converter;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.converter.report.UptrainChart;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.CastTensor;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.DType;
import io.headfuse.formats.Floats;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.LlamaShapes;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.safetensors.HfCheckpointWriter;
import io.headfuse.formats.safetensors.SafetensorsWriter;
import io.headfuse.uptrain.model.FusedKernels;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.model.PeakMemory;
import io.headfuse.uptrain.model.WeightStorage;
import io.headfuse.uptrain.model.TorchRuntime;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import io.headfuse.uptrain.train.NdArrayTensor;
import io.headfuse.uptrain.train.NoGrad;
import io.headfuse.uptrain.train.Trainer;
import io.headfuse.uptrain.train.TrainerCheckpoint;
import io.headfuse.uptrain.train.TrainerSettings;
import io.headfuse.uptrain.train.TrainingData;
import io.headfuse.uptrain.train.TrainingReport;
import io.headfuse.uptrain.train.UptrainRecipe;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code headfuse uptrain}: everything around the training loop. Checks the inputs before anything heavy (output
 * target, files, model compatibility, the window against the model's positions), tokenizes the data once, loads
 * teacher and student, trains, rounds the student to the output dtype and measures it as it will be written, then
 * writes an HF folder atomically with the student's config and side files, a {@code headfuse.json} holding the
 * student's conversion report and the training report, and {@code uptrain.png}.
 */
final class UptrainPipeline {
    private UptrainPipeline() {}

    static UptrainReport run(UptrainOptions o, Progress progress) throws IOException {
        long t0 = System.nanoTime();
        List<Path> inputs = List.of(o.teacher(), o.student());
        HfCheckpointWriter.checkTarget(o.out(), o.force(), inputs);
        for (Path f : o.data()) requireFile(f);
        for (Path f : o.evalFiles()) requireFile(f);
        UptrainRecipe recipe = o.recipe();
        recipe.requireOneStep();
        try (Checkpoint teacherCkpt = Checkpoints.open(o.teacher()); Checkpoint studentCkpt = Checkpoints.open(o.student())) {
            LlamaShapes.validate(teacherCkpt);
            LlamaShapes.validate(studentCkpt);
            LlamaConfig sc = studentCkpt.config();
            Trainer.checkCompatible(teacherCkpt.config(), o.teacher(), sc, o.student());
            if (recipe.seq() > sc.maxPositions())
                throw new IllegalArgumentException("--seq " + recipe.seq() + " is longer than the " + sc.maxPositions() + " positions of " + o.student());
            TrainerSettings settings = o.settings() != null ? o.settings() : TrainerSettings.defaults(recipe.seq());
            DType dtype = o.dtype() != null ? o.dtype() : studentCkpt.storedDtype();
            ObjectNode fingerprint = TrainerCheckpoint.fingerprint(recipe, fingerprintInputs(o));
            Device device = TorchRuntime.device(o.device());
            try (TextTokenizer tok = Tokenizers.forModel(o.teacher())) {
                TrainingData data = TrainingData.load(tok, o.data(), o.holdout(), recipe.seq());
                List<TrainingData.Slice> evalSlices = new ArrayList<>();
                if (o.evalFiles().isEmpty()) for (TrainingData.Slice s : data.holdout()) evalSlices.add(s.capped(tok, settings.evalMaxTokens()));
                else for (Path f : o.evalFiles()) evalSlices.add(TrainingData.evalSlice(tok, f, o.holdout()).capped(tok, settings.evalMaxTokens()));
                // fp16 frozen weights: the whole teacher, and the student's tensors that the recipe does not train.
                WeightStorage teacherStorage = o.fp16Weights() ? WeightStorage.FP16 : WeightStorage.FP32;
                WeightStorage studentStorage = o.fp16Weights() ? WeightStorage.fp16Except(name -> Trainer.trains(recipe.scope(), name)) : WeightStorage.FP32;
                try (PeakMemory peak = PeakMemory.watch(device);
                     LlamaModel teacher = recipe.loss() == UptrainRecipe.Loss.CE ? null : LlamaModel.load(teacherCkpt, teacherCkpt.config(), device, teacherStorage);
                     LlamaModel student = LlamaModel.load(studentCkpt, sc, device, studentStorage);
                     Trainer trainer = new Trainer(teacher, student, data, evalSlices, recipe, settings)) {
                    if (o.resume() != null) TrainerCheckpoint.restore(o.resume(), trainer, fingerprint);
                    TrainingReport.EvalPoint teacherPpl = teacher == null ? null : Trainer.evaluate(teacher, evalSlices, settings, "teacher");
                    Path stateDir = o.stateFolder();
                    Trainer.StateSaver saver = t -> TrainerCheckpoint.save(stateDir, t, sc, fingerprint, inputs);
                    TrainingReport training;
                    try (UptrainProgress bar = new UptrainProgress(progress)) {
                        training = trainer.run(bar, saver);
                    }
                    roundTo(student, dtype);
                    TrainingReport.EvalPoint after = trainer.evaluate("the written " + dtype.name().toLowerCase() + " weights");
                    trainer.addEvaluation(after);
                    training = trainer.report();
                    TrainingReport.EvalPoint before = training.evals().isEmpty() ? null : training.evals().get(0);
                    JsonNode conversion = conversionReport(o.student());
                    List<TensorSource> tensors = new ArrayList<>();
                    for (var e : student.weights().parameters().entrySet()) {
                        // A frozen tensor kept in fp16 on the device is written from the student's checkpoint, not
                        // from its fp16 copy: training never changed it, and fp16 need not hold bf16 values exactly.
                        if (studentStorage.isHalf(e.getKey())) {   // fp16 storage is only ever given to frozen tensors
                            tensors.add(CastTensor.of(studentCkpt.tensor(e.getKey()), dtype));
                        } else {
                            tensors.add(new NdArrayTensor(e.getKey(), e.getValue(), dtype));
                        }
                    }
                    TrainingReport finalTraining = training;
                    UptrainReport[] done = new UptrainReport[1];
                    HfCheckpointWriter.write(o.out(), new HfCheckpointWriter.Contents(sc.withDtype(dtype), LlamaShapes.canonicalOrder(tensors),
                            studentCkpt.sideFiles(), () -> {
                                done[0] = new UptrainReport(o.teacher(), o.student(), o.out(), dtype, device.toString(), finalTraining, teacherPpl, before, after,
                                        (System.nanoTime() - t0) / 1e9, conversion,
                                        o.fp16Weights() ? "fp16 frozen weights, fp32 trainable" : "fp32", FusedKernels.describe(), peak.peak());
                                Map<String, byte[]> files = new LinkedHashMap<>();
                                files.put(ConversionReport.FILE, done[0].toJsonString().getBytes(StandardCharsets.UTF_8));
                                chart(done[0]).ifPresent(png -> files.put(UptrainChart.FILE, png));
                                return files;
                            }), SafetensorsWriter.DEFAULT_SHARD_SIZE, o.force(), inputs, n -> {});
                    return done[0];
                }
            }
        }
    }

    /** The smaller of 1024 and the model's positions: the window distill_ref.py trains on, where the model allows. */
    static int defaultSeq(Path student) throws IOException {
        try (Checkpoint c = Checkpoints.open(student)) {
            return Math.min(1024, c.config().maxPositions());
        }
    }

    private static void requireFile(Path f) throws IOException {
        if (!Files.isRegularFile(f)) throw new NoSuchFileException(f.toString(), null, "no such file");
    }

    /** What a resume must match: the models and the data (by name and size) and the holdout. */
    private static Map<String, String> fingerprintInputs(UptrainOptions o) throws IOException {
        Map<String, String> in = new LinkedHashMap<>();
        in.put("teacher", o.teacher().toAbsolutePath().normalize().toString());
        in.put("student", o.student().toAbsolutePath().normalize().toString());
        StringBuilder data = new StringBuilder();
        for (Path f : o.data()) data.append(data.isEmpty() ? "" : ", ").append(f.getFileName()).append(" (").append(Files.size(f)).append(" bytes)");
        in.put("data", data.toString());
        in.put("holdout", Double.toString(o.holdout()));
        return in;
    }

    /**
     * Rounds every parameter to {@code dtype} and back, in place, so that what is evaluated next is exactly what
     * will be written (writing the rounded values again is exact).
     */
    private static void roundTo(LlamaModel student, DType dtype) {
        if (dtype == DType.F32) return;
        try (NoGrad off = new NoGrad()) {
            for (var a : student.weights().parameters().values()) {
                // fp16-stored frozen tensors (--fp16-weights) are written from the checkpoint, not from here.
                if (a.getDataType() != ai.djl.ndarray.types.DataType.FLOAT32) continue;
                float[] v = a.toFloatArray();
                float[] r = Floats.read(Floats.encode(v, dtype), dtype, 0, v.length);
                a.set(java.nio.FloatBuffer.wrap(r));
            }
        }
    }

    private static JsonNode conversionReport(Path student) {
        Path dir = Files.isRegularFile(student) ? student.toAbsolutePath().getParent() : student;
        Path f = dir.resolve(ConversionReport.FILE);
        if (!Files.isRegularFile(f)) return null;
        try {
            return LlamaConfig.JSON.readTree(f.toFile());
        } catch (IOException e) {
            return null;
        }
    }

    private static java.util.Optional<byte[]> chart(UptrainReport r) {
        try {
            return java.util.Optional.of(UptrainChart.png(r));
        } catch (IOException | RuntimeException | LinkageError e) {
            System.err.println("headfuse: warning: could not draw " + UptrainChart.FILE + ": " + e);
            return java.util.Optional.empty();
        }
    }
}
