package io.headfuse.uptrain.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import ai.djl.ndarray.NDArray;
import io.headfuse.formats.CheckpointException;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.formats.TensorSource;
import io.headfuse.formats.safetensors.HfCheckpoint;
import io.headfuse.formats.safetensors.HfCheckpointWriter;
import io.headfuse.formats.safetensors.SafetensorsFile;
import io.headfuse.formats.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A resumable training state on disk, written atomically (through the checkpoint writer's staging folder): the
 * student's fp32 weights under their HF names, the AdamW moments as {@code optimizer.exp_avg.NAME} and
 * {@code optimizer.exp_avg_sq.NAME}, and {@code trainer_state.json} with the step, the training time, the curves
 * so far and the run's fingerprint (recipe, models, data), which a resume must match. The data order needs no
 * state of its own: it is a function of the seed and the step (see {@link TrainingData}).
 */
public final class TrainerCheckpoint {
    public static final String STATE_FILE = "trainer_state.json";
    private static final String EXP_AVG = "optimizer.exp_avg.";
    private static final String EXP_AVG_SQ = "optimizer.exp_avg_sq.";
    private static final ObjectMapper JSON = LlamaConfig.JSON;

    private TrainerCheckpoint() {}

    /**
     * What identifies a run: a resume must present the same one. {@code inputs} names what the caller wants to
     * pin (models, data files and their sizes).
     */
    public static ObjectNode fingerprint(UptrainRecipe r, Map<String, String> inputs) {
        ObjectNode f = JSON.createObjectNode();
        ObjectNode rec = f.putObject("recipe");
        rec.put("tokens", r.tokens()).put("seq", r.seq()).put("batch", r.batch()).put("accum", r.accum()).put("lr", r.lr())
                .put("warmup", r.warmup()).put("min_lr_ratio", r.minLrRatio()).put("loss", r.loss().label())
                .put("temperature", r.temperature()).put("ce_weight", r.ceWeight()).put("train", r.scope().label())
                .put("kv_lr_scale", r.kvLrScale()).put("clip_norm", r.clipNorm()).put("seed", r.seed());
        ObjectNode in = f.putObject("inputs");
        inputs.forEach(in::put);
        return f;
    }

    /** Writes the trainer's state to {@code dir}, replacing an earlier state there. */
    public static Path save(Path dir, Trainer t, LlamaConfig studentConfig, ObjectNode fingerprint, List<Path> inputs) throws IOException {
        List<TensorSource> tensors = new ArrayList<>();
        for (var e : t.student().weights().parameters().entrySet()) tensors.add(new NdArrayTensor(e.getKey(), e.getValue(), DType.F32));
        for (var e : t.moments().entrySet()) {
            tensors.add(new NdArrayTensor(EXP_AVG + e.getKey(), e.getValue()[0], DType.F32));
            tensors.add(new NdArrayTensor(EXP_AVG_SQ + e.getKey(), e.getValue()[1], DType.F32));
        }
        ObjectNode s = JSON.createObjectNode();
        s.put("kind", "headfuse-uptrain-state");
        s.put("step", t.step());
        s.put("train_seconds", t.trainSeconds());
        s.set("fingerprint", fingerprint);
        ArrayNode losses = s.putArray("losses");
        for (TrainingReport.LossPoint p : t.losses())
            losses.addObject().put("step", p.step()).put("tokens", p.tokens()).put("loss", p.loss()).put("grad_norm", p.gradNorm()).put("lr", p.lr());
        ArrayNode evals = s.putArray("evals");
        for (TrainingReport.EvalPoint p : t.evals()) {
            ObjectNode e = evals.addObject().put("tokens", p.tokens());
            if (p.note() != null) e.put("note", p.note());
            ObjectNode ppl = e.putObject("ppl");
            p.ppl().forEach(ppl::put);
        }
        byte[] stateJson = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s);
        byte[] marker = ("{\"headfuse\": \"resumable uptrain state (headfuse uptrain --resume " + dir.getFileName() + ")\"}\n")
                .getBytes(StandardCharsets.UTF_8);
        Map<String, byte[]> generated = new LinkedHashMap<>();
        generated.put(STATE_FILE, stateJson);
        generated.put("headfuse.json", marker);
        HfCheckpointWriter.write(dir, new HfCheckpointWriter.Contents(studentConfig.withDtype(DType.F32), tensors, List.of(), () -> generated),
                SafetensorsWriter.DEFAULT_SHARD_SIZE, true, inputs, n -> {});
        return dir;
    }

    /**
     * Restores a trainer from {@code dir}: weights, moments, step and curves. Fails, naming the folder, when it is
     * no state, or the state of another run (its fingerprint differs).
     */
    public static void restore(Path dir, Trainer t, ObjectNode fingerprint) throws IOException {
        Path stateFile = dir.resolve(STATE_FILE);
        if (!Files.isRegularFile(stateFile)) throw new CheckpointException(dir, "not a resumable uptrain state (no " + STATE_FILE + ")");
        JsonNode s = JSON.readTree(stateFile.toFile());
        JsonNode theirs = s.path("fingerprint");
        String diff = firstDifference(fingerprint, theirs, "");
        if (diff != null) throw new CheckpointException(dir, "the state comes from another run: " + diff);
        Map<String, TensorSource> stored = tensors(dir);
        try (NoGrad off = new NoGrad()) {
            for (var e : t.student().weights().parameters().entrySet()) set(dir, stored, e.getKey(), e.getValue());
            for (var e : t.moments().entrySet()) {
                set(dir, stored, EXP_AVG + e.getKey(), e.getValue()[0]);
                set(dir, stored, EXP_AVG_SQ + e.getKey(), e.getValue()[1]);
            }
        }
        List<TrainingReport.LossPoint> losses = new ArrayList<>();
        for (JsonNode p : s.path("losses"))
            losses.add(new TrainingReport.LossPoint(p.path("step").asInt(), p.path("tokens").asLong(), p.path("loss").asDouble(),
                    p.path("grad_norm").asDouble(), p.path("lr").asDouble()));
        List<TrainingReport.EvalPoint> evals = new ArrayList<>();
        for (JsonNode p : s.path("evals")) {
            Map<String, Double> ppl = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = p.path("ppl").fields(); it.hasNext(); ) {
                var e = it.next();
                ppl.put(e.getKey(), e.getValue().asDouble());
            }
            evals.add(new TrainingReport.EvalPoint(p.path("tokens").asLong(), ppl, p.has("note") ? p.get("note").asText() : null));
        }
        t.restore(s.path("step").asInt(), s.path("train_seconds").asDouble(), losses, evals);
    }

    private static void set(Path dir, Map<String, TensorSource> stored, String name, NDArray target) throws IOException {
        TensorSource src = stored.get(name);
        if (src == null) throw new CheckpointException(dir, "the state has no tensor " + name);
        if (!java.util.Arrays.equals(src.shape(), target.getShape().getShape()))
            throw new CheckpointException(dir, name + " has shape " + java.util.Arrays.toString(src.shape()) + ", the run needs "
                    + target.getShape());
        target.set(java.nio.FloatBuffer.wrap(src.toFloats()));
    }

    private static Map<String, TensorSource> tensors(Path dir) throws IOException {
        List<Path> shards = new ArrayList<>();
        Path index = dir.resolve(HfCheckpoint.INDEX);
        if (Files.isRegularFile(index)) {
            java.util.TreeSet<String> names = new java.util.TreeSet<>();
            JSON.readTree(index.toFile()).path("weight_map").forEach(v -> names.add(v.asText()));
            for (String n : names) {
                if (n.contains("/") || n.contains("\\") || n.startsWith(".")) throw new CheckpointException(index, "bad shard name " + n);
                shards.add(dir.resolve(n));
            }
        } else {
            shards.add(dir.resolve(HfCheckpoint.SINGLE));
        }
        Map<String, TensorSource> out = new LinkedHashMap<>();
        for (Path p : shards) for (TensorSource ts : SafetensorsFile.open(p).tensors()) out.put(ts.name(), ts);
        return out;
    }

    /** A path to the first value where two fingerprints differ, or null when they agree. */
    private static String firstDifference(JsonNode ours, JsonNode theirs, String at) {
        if (ours.isObject()) {
            if (!theirs.isObject()) return (at.isEmpty() ? "fingerprint" : at) + " is missing";
            for (Iterator<String> it = ours.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                String d = firstDifference(ours.get(k), theirs.path(k), at.isEmpty() ? k : at + "." + k);
                if (d != null) return d;
            }
            return null;
        }
        // Written as a long, read back as an int: numbers compare by value.
        boolean same = ours.isNumber() && theirs.isNumber() ? ours.decimalValue().compareTo(theirs.decimalValue()) == 0 : ours.equals(theirs);
        return same ? null : at + " is " + (theirs.isMissingNode() ? "missing" : theirs) + " there, " + ours + " here";
    }
}
