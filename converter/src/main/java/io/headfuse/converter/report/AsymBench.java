package io.headfuse.converter.report;

import ai.djl.Device;
import io.headfuse.formats.Checkpoint;
import io.headfuse.formats.Checkpoints;
import io.headfuse.formats.calib.CalibrationStats;
import io.headfuse.fusion.FusionPlan;
import io.headfuse.fusion.FusionRequest;
import io.headfuse.fusion.FusionResult;
import io.headfuse.fusion.FusionStrategy;
import io.headfuse.fusion.MeanPoolStrategy;
import io.headfuse.fusion.asym.AsymStrategy;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.TokenStream;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The asym table: zero-shot validation perplexity of a model converted by mean-pooling and by the asym variants
 * (plain, +align, +align+least-squares; decoupled and coupled), at each kv head count, calibrated on one text and
 * evaluated on another, all in memory. {@code bench/asym-table.sh} runs {@link #main}.
 */
public final class AsymBench {
    /** One variant of the table. */
    public record Variant(String label, FusionStrategy strategy) {}

    /** A row: variant, kv heads, perplexity, seconds spent planning + applying. */
    public record Row(String variant, int kvHeads, double ppl, double convertSeconds) {}

    private final Path modelDir;
    private final Checkpoint in;
    private final TextTokenizer tokenizer;
    private final LlamaModel base;
    private FusionPlan lastPlan;

    public AsymBench(Path modelDir) throws IOException {
        this.modelDir = modelDir;
        this.in = Checkpoints.open(modelDir);
        this.tokenizer = Tokenizers.forModel(modelDir);
        this.base = LlamaModel.load(in, Device.cpu());
    }

    /** The variants of the table, in order. */
    public static List<Variant> variants(long seed) {
        List<Variant> v = new ArrayList<>();
        v.add(new Variant("mean", new MeanPoolStrategy()));
        for (boolean coupled : new boolean[] {false, true}) {
            String tag = coupled ? " coupled" : " decoupled";
            v.add(new Variant("asym" + tag, asym(false, false, coupled, seed)));
            v.add(new Variant("asym+align" + tag, asym(true, false, coupled, seed)));
            v.add(new Variant("asym+align+lsq" + tag, asym(true, true, coupled, seed)));
        }
        return v;
    }

    public static AsymStrategy asym(boolean align, boolean lsq, boolean coupled, long seed) {
        return new AsymStrategy(AsymStrategy.Settings.defaults().with(align, lsq, coupled, seed));
    }

    /**
     * Calibration statistics from the first {@code tokens} tokens of {@code text} (one BOS), run in windows of at
     * most 512 tokens (and the model's context).
     */
    public CalibrationStats calibrate(Path text, int tokens) throws IOException {
        String s = readPrefix(text, tokens);
        int[] ids = tokenizer.encode(s, true);
        int n = Math.min(tokens, ids.length);
        int window = Math.min(512, in.config().maxPositions());
        List<int[]> windows = new ArrayList<>();
        for (int i = 0; i < n; i += window) windows.add(java.util.Arrays.copyOfRange(ids, i, Math.min(n, i + window)));
        CalibrationStats stats = new CalibrationStats(in.config().numLayers(), in.config().hiddenSize());
        base.calibrate(windows, stats);
        return stats;
    }

    /** Enough characters for {@code tokens} tokens with room to spare (BPE averages well under 8 chars a token). */
    private static String readPrefix(Path text, int tokens) throws IOException {
        String all = Files.readString(text);
        return all.substring(0, (int) Math.min(all.length(), 8L * tokens + 1024));
    }

    public TokenStream evalStream(Path text) throws IOException {
        return TokenStream.of(tokenizer, Files.readString(text), EvalOptions.validation());
    }

    public double ppl(LlamaModel m, TokenStream stream) {
        return Perplexity.evaluate(m, stream, EvalOptions.validation()).ppl();
    }

    public double basePpl(TokenStream stream) { return ppl(base, stream); }

    /** Converts in memory with {@code strategy} and evaluates the result. */
    public Row run(Variant v, int kv, CalibrationStats stats, TokenStream stream) throws IOException {
        long t0 = System.nanoTime();
        FusionRequest req = new FusionRequest(kv, stats);
        FusionPlan plan = lastPlan = v.strategy().plan(in, req);
        FusionResult result = v.strategy().apply(in, plan, req);
        ConvertedView view = new ConvertedView(in, result);
        try (LlamaModel m = LlamaModel.load(view, view.config(), Device.cpu())) {
            double secs = (System.nanoTime() - t0) / 1e9;
            return new Row(v.label(), kv, ppl(m, stream), secs);
        }
    }

    /** The plan of the latest {@link #run} (e.g. DHA's per-layer budgets). */
    public FusionPlan lastPlan() { return lastPlan; }

    public void close() throws IOException {
        base.close();
        tokenizer.close();
        in.close();
    }

    /**
     * {@code AsymBench [--png PATH] MODEL CALIB_TEXT EVAL_TEXT [CALIB_TOKENS] [KV...]}: prints the table as Markdown
     * and draws it as a bar chart ({@link AsymChart}) to PATH, by default {@value AsymChart#FILE} in the working
     * folder.
     */
    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(List.of(args));
        Path png = Path.of(AsymChart.FILE);
        int at = rest.indexOf("--png");
        if (at >= 0 && at + 1 < rest.size()) {
            png = Path.of(rest.get(at + 1));
            rest.subList(at, at + 2).clear();
        }
        if (rest.size() < 3 || rest.contains("--png")) {
            System.err.println("usage: AsymBench [--png PATH] MODEL CALIB_TEXT EVAL_TEXT [CALIB_TOKENS] [KV...]");
            System.exit(2);
        }
        Path model = Path.of(rest.get(0)), calib = Path.of(rest.get(1)), eval = Path.of(rest.get(2));
        int tokens = rest.size() > 3 ? Integer.parseInt(rest.get(3)) : 65536;
        List<Integer> kvs = new ArrayList<>();
        for (int i = 4; i < rest.size(); i++) kvs.add(Integer.parseInt(rest.get(i)));
        if (kvs.isEmpty()) kvs = List.of(4, 2);
        PrintStream out = System.out;
        AsymBench b = new AsymBench(model);
        try {
            long t0 = System.nanoTime();
            CalibrationStats stats = b.calibrate(calib, tokens);
            double calibSecs = (System.nanoTime() - t0) / 1e9;
            TokenStream stream = b.evalStream(eval);
            out.printf("model %s; calibration: %d tokens of %s (%.1f s); eval: validation slice of %s (%d tokens)%n%n",
                    model.getFileName(), stats.tokens(), calib.getFileName(), calibSecs, eval.getFileName(), stream.length());
            int mhaKv = b.in.config().numKvHeads();
            double mhaPpl = b.basePpl(stream);
            out.printf("MHA (%d kv heads): ppl %.3f%n%n", mhaKv, mhaPpl);
            out.print("| variant |");
            for (int kv : kvs) out.printf(" kv=%d ppl | kv=%d convert s |", kv, kv);
            out.println();
            out.print("|---|");
            for (int ignored : kvs) out.print("---:|---:|");
            out.println();
            List<Row> rows = new ArrayList<>();
            for (Variant v : variants(AsymStrategy.Settings.defaults().seed())) {
                out.printf("| %s |", v.label());
                for (int kv : kvs) {
                    Row r = b.run(v, kv, stats, stream);
                    rows.add(r);
                    out.printf(" %.3f | %.1f |", r.ppl(), r.convertSeconds());
                }
                out.println();
                out.flush();
            }
            AsymChart.write(String.format("%s: calib %d tokens of %s, eval %s", model.getFileName(),
                    stats.tokens(), calib.getFileName(), eval.getFileName()), mhaKv, mhaPpl, rows, png);
            out.printf("%nchart: %s%n", png);
        } finally {
            b.close();
        }
    }
}
