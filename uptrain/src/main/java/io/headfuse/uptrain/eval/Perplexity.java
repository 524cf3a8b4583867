package io.headfuse.uptrain.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Perplexity in the convention of assets/README.md (the one tools/hf_ppl.py implements with transformers):
 * one tokenization of the whole text with one BOS, disjoint windows, mean NLL over every predicted token,
 * fp32 log-softmax. Each window runs in its own sub-manager, so native memory stays flat over any length.
 */
public final class Perplexity {
    private Perplexity() {}

    /** Loads the model at {@code model} on {@code device} with its tokenizer and evaluates the UTF-8 text file {@code data}. */
    public static PerplexityResult evaluate(Path model, Path data, EvalOptions o, Device device) throws IOException {
        String text = readText(data);
        try (LlamaModel m = LlamaModel.load(model, device); TextTokenizer tok = Tokenizers.forModel(model)) {
            return evaluate(m, tok, text, o);
        }
    }

    /**
     * A UTF-8 text file as Python's text mode reads it ({@code \r\n} and lone {@code \r} become {@code \n};
     * malformed bytes become U+FFFD rather than failing), or "FILE: no such file" when it is missing. Every text
     * headfuse evaluates, compares or calibrates on comes through here.
     */
    public static String readText(Path file) throws IOException {
        return TextFile.read(file);
    }

    /** Tokenizes {@code text} and evaluates it. */
    public static PerplexityResult evaluate(LlamaModel model, TextTokenizer tokenizer, String text, EvalOptions o) {
        return evaluate(model, TokenStream.of(tokenizer, text, o), o);
    }

    /**
     * Evaluates a prepared token stream, {@code o.batch()} windows per forward pass (resolved by
     * {@link BatchSize#resolve} when 0). The sum of NLLs is the same at any batch up to float rounding.
     */
    public static PerplexityResult evaluate(LlamaModel model, TokenStream stream, EvalOptions o) {
        List<int[]> windows = stream.windows(o.window());
        if (windows.isEmpty()) throw new IllegalArgumentException("text too short: " + stream.length() + " tokens, at least 2 needed");
        int batch = BatchSize.resolve(o.batch(), model.config(), o.window(), model.device());
        double total;
        long predicted = 0, processed = 0;
        long t0 = System.nanoTime();
        // The whole stream goes to the device once and the NLL sum stays there (fp64) until the end: a per-batch
        // upload from host memory or read-back waits for the device, and the host would then prepare each batch
        // while the device idles. Without them the host queues batch i+1 while the device runs batch i.
        try (Progress bar = Progress.start(o.progress(), o.label(), stream.processed(o.window()));
             NDManager keep = model.manager().newSubManager()) {
            NDArray all = TokenScores.stream(stream.ids(), keep);
            NDArray sum = keep.zeros(new ai.djl.ndarray.types.Shape(), ai.djl.ndarray.types.DataType.FLOAT64);
            for (List<int[]> ranges : Batches.of(windows, batch)) {
                int t = ranges.get(0)[1] - ranges.get(0)[0];
                try (NDManager sub = model.manager().newSubManager()) {
                    NDArray ids = TokenScores.windows(all, ranges, sub);
                    sum.addi(TokenScores.nllSum(TokenScores.logProbs(model, ids), TokenScores.targets(ids)));
                }
                predicted += (long) ranges.size() * (t - 1);
                processed += (long) ranges.size() * t;
                bar.step((long) ranges.size() * t);
            }
            total = sum.getDouble();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new PerplexityResult(total, predicted, stream.words(), stream.bytes(), processed, seconds);
    }
}
