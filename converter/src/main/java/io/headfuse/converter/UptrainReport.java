package io.headfuse.converter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.headfuse.formats.DType;
import io.headfuse.formats.LlamaConfig;
import io.headfuse.uptrain.train.TrainingReport;
import io.headfuse.uptrain.train.UptrainRecipe;
import java.nio.file.Path;
import java.util.Map;

/**
 * What an uptraining run did, written into the output's {@code headfuse.json} (beside the student's conversion
 * report, when it had one) and returned to library callers: the recipe, tokens, steps, time, the loss curve and
 * the held-out perplexities before and after, the latter measured on the weights as written (rounded to the
 * output dtype).
 *
 * @param teacherPpl the teacher's perplexity on the same slices (null when it was not loaded: the CE loss)
 * @param conversion the student's own {@code headfuse.json}, or null
 * @param weights    how the models' weights were kept on the device (fp32, or fp16 frozen weights)
 * @param kernels    which operators ran ({@link io.headfuse.uptrain.model.FusedKernels#describe})
 * @param peakDeviceBytes the device memory in use at its peak (sampled; empty on the CPU)
 */
public record UptrainReport(Path teacher, Path student, Path output, DType dtype, String device, TrainingReport training,
                            TrainingReport.EvalPoint teacherPpl, TrainingReport.EvalPoint before, TrainingReport.EvalPoint after,
                            double wallSeconds, JsonNode conversion, String weights, String kernels, java.util.OptionalLong peakDeviceBytes) {

    public ObjectNode toJson() {
        ObjectNode root = LlamaConfig.JSON.createObjectNode();
        root.put("headfuse_version", ConversionReport.VERSION);
        if (conversion != null) root.set("conversion", conversion);
        ObjectNode u = root.putObject("uptrain");
        u.put("teacher", teacher.toString());
        u.put("student", student.toString());
        u.put("output", output.toString());
        u.put("dtype", dtype.name().toLowerCase());
        u.put("device", device);
        u.put("weights", weights);
        u.put("kernels", kernels);
        if (peakDeviceBytes.isPresent()) u.put("peak_device_bytes", peakDeviceBytes.getAsLong());
        else u.putNull("peak_device_bytes");
        UptrainRecipe r = training.recipe();
        ObjectNode rec = u.putObject("recipe");
        rec.put("loss", r.loss().label()).put("temperature", r.temperature()).put("ce_weight", r.ceWeight()).put("train", r.scope().label())
                .put("tokens", r.tokens()).put("seq", r.seq()).put("batch", r.batch()).put("accum", r.accum()).put("lr", r.lr())
                .put("warmup", r.warmup()).put("min_lr_ratio", r.minLrRatio()).put("kv_lr_scale", r.kvLrScale()).put("clip_norm", r.clipNorm())
                .put("seed", r.seed()).put("optimizer", "AdamW betas (0.9, 0.95), eps 1e-8, weight decay 0")
                .put("schedule", "linear warm-up, then cosine to min_lr_ratio x lr");
        u.put("steps", training.steps());
        u.put("tokens", training.tokens());
        if (training.resumedAt() > 0) u.put("resumed_at_step", training.resumedAt());
        number(u, "train_seconds", training.trainSeconds());
        number(u, "tokens_per_s", training.tokensPerSecond());
        number(u, "wall_seconds", wallSeconds);
        ObjectNode ppl = u.putObject("perplexity");
        ppl.put("window", training.recipe().seq());
        if (teacherPpl != null) ppl.set("teacher", points(teacherPpl));
        ppl.set("before", points(before));
        ppl.set("after", points(after));
        if (after != null && after.note() != null) ppl.put("after_measured_on", after.note());
        ArrayNode losses = u.putArray("loss_curve");
        for (TrainingReport.LossPoint p : training.losses()) {
            ObjectNode o = losses.addObject().put("step", p.step()).put("tokens", p.tokens());
            number(o, "loss", p.loss());
            number(o, "grad_norm", p.gradNorm());
            o.put("lr", p.lr());
        }
        ArrayNode evals = u.putArray("eval_curve");
        for (TrainingReport.EvalPoint p : training.evals()) {
            ObjectNode o = evals.addObject().put("tokens", p.tokens());
            if (p.note() != null) o.put("note", p.note());
            o.set("ppl", points(p));
        }
        return root;
    }

    private static ObjectNode points(TrainingReport.EvalPoint p) {
        ObjectNode o = LlamaConfig.JSON.createObjectNode();
        if (p != null) for (Map.Entry<String, Double> e : p.ppl().entrySet()) number(o, e.getKey(), e.getValue());
        return o;
    }

    /** JSON has no Infinity or NaN: such a value is written as null, with a note beside it. */
    static void number(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
            o.put(key + "_note", Double.isNaN(v) ? "not a number (diverged or undefined)" : "infinite (diverged)");
        }
    }

    public String toJsonString() {
        try {
            return LlamaConfig.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A few lines for a person: perplexity before and after on each slice, tokens and speed. */
    public String summary() {
        StringBuilder s = new StringBuilder();
        s.append(String.format("uptrained %s -> %s: %,d tokens in %d steps, %.1f s training (%,.0f tokens/s), %s weights%n",
                student, output, training.tokens(), training.steps(), training.trainSeconds(), training.tokensPerSecond(), dtype.name().toLowerCase()));
        for (String k : after.ppl().keySet()) {
            Double b = before == null ? null : before.ppl().get(k);
            Double t = teacherPpl == null ? null : teacherPpl.ppl().get(k);
            s.append(String.format("  %-28s perplexity %s -> %.4f%s%n", k, b == null ? "n/a" : String.format("%.4f", b), after.ppl().get(k),
                    t == null ? "" : String.format("   (teacher %.4f)", t)));
        }
        return s.toString();
    }
}
