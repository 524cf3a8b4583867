import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.TokenStream;
import io.headfuse.uptrain.model.ForwardTap;
import io.headfuse.uptrain.model.FusedKernels;
import io.headfuse.uptrain.model.KvCache;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.model.TorchRuntime;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Checks headfuse's fused kernels ({@code libheadfuse_torch.so}, see FusedKernels) against the primitive operators
 * on one model, on the device where they will run: the logits of BATCH windows of TOKENS tokens from TEXT's
 * validation slice, the mean next-token loss, and the gradient of every weight, once with the kernels and once
 * without. Run with TF32 off (HEADFUSE_TF32=0) for an fp32-to-fp32 comparison. Prints one JSON line; exit 1 when
 * the kernels are not loaded or logits or gradients differ by more than 1e-3 of their largest magnitude.
 * (The optimiser kernel is checked end to end by bench/gpu-uptrain.sh, section kernels: two uptrains, one each way.)
 * Then decoding: BATCH prompts of TOKENS/2 tokens prefilled into a KV cache and 32 greedy steps, once with the
 * one-call decode layer, once operator by operator on the kernels, once on primitive operators (the later runs
 * fed the first run's tokens), comparing every step's logits by the same bound.
 *
 * usage: java -cp <runtime classpath> FusedKernelCheck MODEL TEXT [TOKENS=512] [BATCH=4] [DEVICE=gpu]
 */
public class FusedKernelCheck {
    public static void main(String[] a) throws Exception {
        Path model = Path.of(a[0]), text = Path.of(a[1]);
        int tokens = a.length > 2 ? Integer.parseInt(a[2]) : 512;
        int batch = a.length > 3 ? Integer.parseInt(a[3]) : 4;
        Device device = TorchRuntime.device(a.length > 4 ? a[4] : "gpu");
        if (FusedKernels.get() == null) {
            System.out.println("{\"ok\": false, \"why\": \"" + FusedKernels.describe() + "\"}");
            System.exit(1);
        }
        int[] ids;
        try (TextTokenizer tok = Tokenizers.forModel(model)) {
            ids = TokenStream.of(tok, Perplexity.readText(text), EvalOptions.validation().withMaxTokens(tokens * batch)).ids();
        }
        long[] flat = new long[tokens * batch];
        for (int i = 0; i < flat.length; i++) flat[i] = ids[i % ids.length];
        try (LlamaModel m = LlamaModel.load(model, device)) {
            for (NDArray w : m.weights().parameters().values()) w.setRequiresGradient(true);
            Result fused = run(m, flat, batch, tokens);
            FusedKernels.setEnabled(false);
            Result prim = run(m, flat, batch, tokens);
            FusedKernels.setEnabled(true);
            double logitDiff = maxDiff(fused.logits, prim.logits), logitScale = maxAbs(prim.logits);
            double gradRel = 0;
            String worst = "";
            for (String name : prim.grads.keySet()) {
                double rel = maxDiff(fused.grads.get(name), prim.grads.get(name)) / Math.max(maxAbs(prim.grads.get(name)), 1e-30);
                if (rel > gradRel) {
                    gradRel = rel;
                    worst = name;
                }
            }
            for (NDArray w : m.weights().parameters().values()) w.setRequiresGradient(false);
            int prompt = tokens / 2, steps = 32;
            Decode layer = decode(m, flat, tokens, batch, prompt, steps, null);
            FusedKernels.setDecodeLayerEnabled(false);
            Decode perOp = decode(m, flat, tokens, batch, prompt, steps, layer.tokens);
            FusedKernels.setEnabled(false);
            Decode primDecode = decode(m, flat, tokens, batch, prompt, steps, layer.tokens);
            FusedKernels.setEnabled(true);
            FusedKernels.setDecodeLayerEnabled(true);
            double decodeScale = maxAbs(primDecode.logits);
            double layerDiff = maxDiff(layer.logits, perOp.logits), layerPrimDiff = maxDiff(layer.logits, primDecode.logits);
            System.out.printf(Locale.ROOT, "{\"decode_batch\": %d, \"prompt\": %d, \"steps\": %d, \"logit_max_abs\": %.4f, "
                            + "\"decode_layer_vs_per_op_max_diff\": %.3e, \"decode_layer_vs_primitive_max_diff\": %.3e, "
                            + "\"decode_layer_ms\": %.1f, \"per_op_ms\": %.1f, \"primitive_ms\": %.1f}%n",
                    batch, prompt, steps, decodeScale, layerDiff, layerPrimDiff, layer.ms, perOp.ms, primDecode.ms);
            boolean ok = logitDiff <= 1e-3 * logitScale && gradRel <= 1e-3
                    && layerDiff <= 1e-3 * decodeScale && layerPrimDiff <= 1e-3 * decodeScale;
            System.out.printf(Locale.ROOT, "{\"device\": \"%s\", \"batch\": %d, \"tokens\": %d, \"loss_fused\": %.7f, \"loss_primitive\": %.7f, "
                            + "\"logit_max_abs\": %.4f, \"logit_max_diff\": %.3e, \"grad_max_rel_diff\": %.3e, \"grad_worst\": \"%s\", "
                            + "\"fused_ms\": %.1f, \"primitive_ms\": %.1f, \"tf32\": %b, \"ok\": %b}%n",
                    device, batch, tokens, fused.loss, prim.loss, logitScale, logitDiff, gradRel, worst, fused.ms, prim.ms,
                    TorchRuntime.tf32() && device.isGpu(), ok);
            if (!ok) System.exit(1);
        }
    }

    private record Result(double loss, float[] logits, Map<String, float[]> grads, double ms) {}

    private static Result run(LlamaModel m, long[] flat, int batch, int tokens) {
        try (NDManager sub = m.manager().newSubManager(); GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray x = sub.create(flat).reshape(batch, tokens);
            long t0 = System.nanoTime();
            NDArray logits = m.forward(x);
            NDArray lp = logits.get(":, :-1").logSoftmax(-1);
            NDArray loss = lp.gather(x.get(":, 1:").expandDims(-1), 2).mean().neg();
            gc.backward(loss);
            float lossValue = loss.getFloat();
            double ms = (System.nanoTime() - t0) / 1e6;
            Map<String, float[]> grads = new java.util.LinkedHashMap<>();
            List<String> names = new ArrayList<>(m.weights().parameters().keySet());
            for (String n : names) {
                NDArray w = m.weights().parameters().get(n);
                grads.put(n, w.getGradient().toFloatArray());
                w.getGradient().muli(0);   // gradients accumulate across backward calls
            }
            return new Result(lossValue, logits.get("0").toFloatArray(), grads, ms);
        }
    }

    private record Decode(float[] logits, long[][] tokens, double ms) {}

    /** Prefills the first {@code prompt} tokens of each window, then decodes {@code steps} tokens (greedy, or {@code forced}). */
    private static Decode decode(LlamaModel m, long[] flat, int tokens, int batch, int prompt, int steps, long[][] forced) {
        long[] p = new long[batch * prompt];
        for (int b = 0; b < batch; b++) System.arraycopy(flat, b * tokens, p, b * prompt, prompt);
        long[][] chosen = new long[steps][];
        List<float[]> logits = new ArrayList<>();
        try (NDManager sub = m.manager().newSubManager(); KvCache cache = m.newCache(prompt + steps)) {
            NDArray pre = m.forward(sub.create(p).reshape(batch, prompt), cache, ForwardTap.NONE);
            float[] last = pre.get(":, -1").toFloatArray();
            long t0 = System.nanoTime();
            for (int s = 0; s < steps; s++) {
                chosen[s] = forced != null ? forced[s] : argmax(last, batch);
                try (NDManager step = sub.newSubManager()) {
                    last = m.forward(step.create(chosen[s]).reshape(batch, 1), cache, ForwardTap.NONE).toFloatArray();
                }
                logits.add(last);
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            int n = 0;
            for (float[] l : logits) n += l.length;
            float[] all = new float[n];
            int at = 0;
            for (float[] l : logits) {
                System.arraycopy(l, 0, all, at, l.length);
                at += l.length;
            }
            return new Decode(all, chosen, ms);
        }
    }

    private static long[] argmax(float[] rows, int batch) {
        int v = rows.length / batch;
        long[] out = new long[batch];
        for (int b = 0; b < batch; b++)
            for (int i = 1; i < v; i++) if (rows[b * v + i] > rows[b * v + (int) out[b]]) out[b] = i;
        return out;
    }

    private static double maxDiff(float[] x, float[] y) {
        double d = 0;
        for (int i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
        return d;
    }

    private static double maxAbs(float[] x) {
        double d = 0;
        for (float v : x) d = Math.max(d, Math.abs(v));
        return d;
    }
}
