import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.TokenStream;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.model.TorchRuntime;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Gradient smoke test for a GPU machine: backward through the headfuse runtime on the device, checked against the
 * CPU. The loss is the mean next-token NLL of the first TOKENS tokens of TEXT's validation slice (--from 0.98
 * convention); the gradient is d(loss)/d(k_proj) of every layer, the weights that uptraining a converted model
 * moves first. The same weights on the CPU give the reference gradient; one small gradient step on the device must
 * then lower the loss. Run it with TF32 off (HEADFUSE_TF32=0) for an fp32-to-fp32 comparison.
 * Prints one JSON line; exit 1 when the gradients disagree (relative max difference over 1e-3) or the step fails
 * to lower the loss.
 *
 * usage: java -cp <runtime classpath> GpuGradientSmoke MODEL TEXT [TOKENS=512] [DEVICE=gpu]
 */
public class GpuGradientSmoke {
    public static void main(String[] a) throws Exception {
        Path model = Path.of(a[0]), text = Path.of(a[1]);
        int tokens = a.length > 2 ? Integer.parseInt(a[2]) : 512;
        Device device = TorchRuntime.device(a.length > 3 ? a[3] : "gpu");
        int[] ids;
        try (TextTokenizer tok = Tokenizers.forModel(model)) {
            EvalOptions o = EvalOptions.validation().withMaxTokens(tokens);
            ids = TokenStream.of(tok, Perplexity.readText(text), o).ids();
        }
        try (LlamaModel dev = LlamaModel.load(model, device); LlamaModel cpu = LlamaModel.load(model, Device.cpu())) {
            int layers = dev.config().numLayers();
            long t0 = System.nanoTime();
            Grad g = kGradients(dev, ids);
            double gpuSeconds = (System.nanoTime() - t0) / 1e9;
            Grad ref = kGradients(cpu, ids);
            double err = 0, scale = 0;
            for (int l = 0; l < layers; l++)
                for (int i = 0; i < g.k[l].length; i++) {
                    err = Math.max(err, Math.abs(g.k[l][i] - ref.k[l][i]));
                    scale = Math.max(scale, Math.abs(ref.k[l][i]));
                }
            // A step of 1e-3 of the weights' norm against the gradient: first order, the loss must fall.
            double after = lossAfterStep(dev, ids, g, 1e-3);
            boolean ok = scale > 0 && err <= 1e-3 * scale && after < g.loss;
            System.out.printf(Locale.ROOT, "{\"device\": \"%s\", \"tokens\": %d, \"loss_device\": %.6f, \"loss_cpu\": %.6f, "
                            + "\"k_grad_max_abs\": %.4e, \"k_grad_max_diff_vs_cpu\": %.4e, \"rel\": %.2e, "
                            + "\"loss_after_step\": %.6f, \"backward_s\": %.3f, \"tf32\": %b, \"ok\": %b}%n",
                    device, ids.length, g.loss, ref.loss, scale, err, err / scale, after, gpuSeconds,
                    TorchRuntime.tf32() && device.isGpu(), ok);
            if (!ok) System.exit(1);
        }
    }

    private record Grad(double loss, float[][] k) {}

    /** Mean NLL over tokens 1..T-1 of one window, in {@code sub}. */
    private static NDArray loss(LlamaModel m, NDManager sub, int[] ids) {
        NDArray logits = m.forward(LlamaModel.tokens(sub, ids)).get("0, :-1");
        long[] next = new long[ids.length - 1];
        for (int i = 1; i < ids.length; i++) next[i - 1] = ids[i];
        return logits.logSoftmax(-1).gather(sub.create(next).reshape(-1, 1), 1).mean().neg();
    }

    private static Grad kGradients(LlamaModel m, int[] ids) {
        int layers = m.config().numLayers();
        for (int l = 0; l < layers; l++) m.weights().layer(l).k().setRequiresGradient(true);
        try (NDManager sub = m.manager().newSubManager(); GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray loss = loss(m, sub, ids);
            gc.backward(loss);
            float[][] k = new float[layers][];
            for (int l = 0; l < layers; l++) k[l] = m.weights().layer(l).k().getGradient().toFloatArray();
            return new Grad(loss.getFloat(), k);
        }
    }

    /** Moves every layer's k_proj by {@code rel} of its norm against its gradient, and returns the new loss. */
    private static double lossAfterStep(LlamaModel m, int[] ids, Grad g, double rel) {
        try (NDManager sub = m.manager().newSubManager()) {
            for (int l = 0; l < g.k.length; l++) {
                NDArray w = m.weights().layer(l).k();
                w.setRequiresGradient(false); // an in-place update of a leaf that records gradients is refused
                NDArray grad = sub.create(g.k[l], w.getShape()).toDevice(w.getDevice(), false);
                double step = rel * w.norm().getFloat() / grad.norm().getFloat();
                w.subi(grad.mul(step));
            }
            return loss(m, sub, ids).getFloat();
        }
    }
}
