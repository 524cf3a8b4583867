import ai.djl.Device;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.PerplexityResult;
import io.headfuse.uptrain.eval.TokenStream;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.model.TorchRuntime;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Perplexity-evaluation throughput of the headfuse runtime: tokens through the model per second (the
 * tokens_per_s of tools/hf_ppl.py: every token of every window, model time only), on the first TOKENS tokens
 * of TEXT in disjoint windows. Two windows warm up first; then ROUNDS timed passes, best and median reported.
 *
 * usage: java -cp <runtime classpath> bench/EvalThroughput.java MODEL TEXT [TOKENS=16384] [WINDOW=512] [DEVICE=cpu] [ROUNDS=3]
 */
public class EvalThroughput {
    public static void main(String[] a) throws Exception {
        Path model = Path.of(a[0]), text = Path.of(a[1]);
        long tokens = a.length > 2 ? Long.parseLong(a[2]) : 16384;
        int window = a.length > 3 ? Integer.parseInt(a[3]) : 512;
        Device device = TorchRuntime.device(a.length > 4 ? a[4] : "cpu");
        int rounds = a.length > 5 ? Integer.parseInt(a[5]) : 3;
        EvalOptions o = EvalOptions.defaults().withWindow(window).withMaxTokens(tokens);
        try (LlamaModel m = LlamaModel.load(model, device); TextTokenizer tok = Tokenizers.forModel(model)) {
            TokenStream stream = TokenStream.of(tok, Perplexity.readText(text), o);
            Perplexity.evaluate(m, TokenStream.of(tok, Perplexity.readText(text), o.withMaxTokens(2L * window)), o);
            double[] rates = new double[rounds];
            PerplexityResult r = null;
            for (int i = 0; i < rounds; i++) {
                r = Perplexity.evaluate(m, stream, o);
                rates[i] = r.tokensPerSecond();
                System.err.printf(Locale.ROOT, "round %d: %.0f tokens/s (%.2f s)%n", i + 1, rates[i], r.seconds());
            }
            Arrays.sort(rates);
            System.out.printf(Locale.ROOT, "{\"model\": \"%s\", \"device\": \"%s\", \"tokens\": %d, \"window\": %d, \"rounds\": %d, "
                            + "\"best_tokens_per_s\": %.1f, \"median_tokens_per_s\": %.1f, \"ppl\": %.4f, \"tf32\": %b, \"cpus\": %d}%n",
                    model.getFileName(), device, r.processed(), window, rounds, rates[rounds - 1], rates[rounds / 2], r.ppl(),
                    TorchRuntime.tf32() && device.isGpu(), Runtime.getRuntime().availableProcessors());
        }
    }
}
