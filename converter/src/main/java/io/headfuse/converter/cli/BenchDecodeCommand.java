package io.headfuse.converter.cli;

import ai.djl.Device;
import io.headfuse.converter.cli.EvalCommand.EvalArgs;
import io.headfuse.converter.report.DecodeChart;
import io.headfuse.uptrain.eval.DecodeBench;
import io.headfuse.uptrain.eval.DecodeOptions;
import io.headfuse.uptrain.eval.DecodeResult;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.model.WeightStorage;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/**
 * {@code headfuse bench-decode}: the decode benchmark of {@link DecodeBench} for a teacher and its converted
 * students in one call, one model on the device at a time, with each model's ratios to the first.
 */
final class BenchDecodeCommand implements Command {
    @Override public String name() { return "bench-decode"; }
    @Override public String summary() { return "prefill and decode throughput and kv-cache size of models, with ratios to the first"; }
    @Override public String usage() { return "--model DIR... [--batch B] [--context T] [--new N] [--device cpu|gpu] [--text FILE] [--seed S] [--fp16-weights] [--json OUT] [--png FILE]"; }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("model").hasArgs().argName("DIR").desc("checkpoints to measure; the first is the reference of the ratios").build());
        o.addOption(Option.builder().longOpt("batch").hasArg().argName("B").desc("sequences decoded together (default 1)").build());
        o.addOption(Option.builder().longOpt("context").hasArg().argName("T").desc("prompt tokens per sequence (default 512)").build());
        o.addOption(Option.builder().longOpt("new").hasArg().argName("N").desc("tokens generated per sequence (default 128)").build());
        o.addOption(Option.builder().longOpt("device").hasArg().argName("D").desc("cpu (default), gpu or gpu:N").build());
        o.addOption(Option.builder().longOpt("text").hasArg().argName("FILE").desc("cut the prompts from this UTF-8 text (default: random tokens)").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().argName("S").desc("seed of the random prompts (default 0)").build());
        o.addOption(Option.builder().longOpt("fp16-weights").desc("keep the weights in fp16 on the device, widened to fp32 where used").build());
        o.addOption(Option.builder().longOpt("json").hasArg().argName("OUT").desc("also write the results as JSON to OUT (its folder must exist; non-finite numbers are written as null with a note)").build());
        o.addOption(Option.builder().longOpt("png").hasArg().argName("FILE").desc("bar charts of decode tokens/s and kv-cache bytes per model (the folder must exist)").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        String[] dirs = cl.getOptionValues("model");
        if (dirs == null || dirs.length == 0) throw new UsageException("missing required option --model");
        int batch = positive(cl, "batch", 1), context = positive(cl, "context", 512), n = positive(cl, "new", 128);
        long seed = Args.longValue(cl, "seed", 0);
        Device device = EvalArgs.device(cl);
        Path json = cl.hasOption("json") ? Args.reportFile(cl, "json") : null;
        Path png = cl.hasOption("png") ? Args.reportFile(cl, "png") : null;
        WeightStorage storage = cl.hasOption("fp16-weights") ? WeightStorage.FP16 : WeightStorage.FP32;
        List<Path> models = new ArrayList<>();
        for (String d : dirs) models.add(checked(d));
        int[] prompt = null;
        if (cl.hasOption("text")) {
            String text = Perplexity.readText(Path.of(cl.getOptionValue("text")));
            try (TextTokenizer tok = Tokenizers.forModel(models.get(0))) {
                prompt = tok.encode(text, true);
            }
        }
        DecodeOptions o = new DecodeOptions(batch, context, n, seed, prompt);
        List<DecodeResult> results = new ArrayList<>();
        for (Path m : models) {
            DecodeResult r;
            try (LlamaModel model = LlamaModel.load(m, device, storage)) {
                r = DecodeBench.run(m.toString(), model, o);
            }
            results.add(r);
            out.println(m + ": " + r + ratios(r, results.get(0)));
        }
        if (json != null) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (DecodeResult r : results) {
                Map<String, Object> row = new LinkedHashMap<>(r.toJson());
                row.put("decode_ratio", r.decodeTokensPerSecond() / results.get(0).decodeTokensPerSecond());
                row.put("prefill_ratio", r.prefillTokensPerSecond() / results.get(0).prefillTokensPerSecond());
                row.put("kv_ratio", (double) r.kvBytesComputed() / results.get(0).kvBytesComputed());
                rows.add(row);
            }
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("device", device.toString());
            doc.put("weights", cl.hasOption("fp16-weights") ? "fp16" : "fp32");
            doc.put("models", rows);
            EvalArgs.writeJson(json, doc);
        }
        if (png != null)
            DecodeChart.write(String.format(Locale.ROOT, "bench-decode: batch %d, context %d, %d new tokens, %s", batch, context, n, device), results, png);
        return 0;
    }

    private static Path checked(String d) throws java.io.IOException {
        Path p = Path.of(d);
        if (!java.nio.file.Files.exists(p)) throw new java.io.IOException(p + ": no such file or folder");
        return p;
    }

    private static String ratios(DecodeResult r, DecodeResult first) {
        if (r == first) return "";
        return String.format(Locale.ROOT, "; vs first: decode %.2fx, prefill %.2fx, kv cache %.4fx (%s smaller)",
                r.decodeTokensPerSecond() / first.decodeTokensPerSecond(), r.prefillTokensPerSecond() / first.prefillTokensPerSecond(),
                (double) r.kvBytesComputed() / first.kvBytesComputed(), trim((double) first.kvBytesComputed() / r.kvBytesComputed()) + "x");
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.3f", v);
    }

    private static int positive(CommandLine cl, String opt, int dflt) throws UsageException {
        int v = Args.intValue(cl, opt, dflt);
        if (v < 1) throw new UsageException("--" + opt + " must be at least 1, got " + v);
        return v;
    }
}
