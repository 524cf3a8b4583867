package io.headfuse.converter.cli;

import ai.djl.Device;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.eval.Perplexity;
import io.headfuse.uptrain.eval.PerplexityResult;
import io.headfuse.uptrain.model.DeviceMemory;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.model.PeakMemory;
import io.headfuse.uptrain.model.WeightStorage;
import io.headfuse.uptrain.model.TorchRuntime;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code headfuse eval}: perplexity of a checkpoint on text files (assets/README.md convention). */
final class EvalCommand implements Command {
    @Override public String name() { return "eval"; }
    @Override public String summary() { return "perplexity (token, word and byte level) and throughput of a checkpoint on text files"; }
    @Override public String usage() { return "--model DIR --data FILE... [--window L] [--device cpu|gpu] [--batch B] [--fp16-weights] [--max-tokens N] [--from F] [--json OUT]"; }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("model").hasArg().argName("DIR").desc("checkpoint: HF folder, Meta folder or llama2.c .bin (default: the embedded models/headfuse-mha-s)").build());
        o.addOption(Option.builder().longOpt("data").hasArgs().argName("FILE").desc("UTF-8 text file(s) to evaluate").build());
        EvalArgs.addCommon(o);
        o.addOption(Option.builder().longOpt("json").hasArg().argName("OUT").desc("also write the result as JSON to OUT (its folder must exist; non-finite numbers are written as null with a note)").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Path model = EvalArgs.model(cl, "model");
        List<Path> data = EvalArgs.dataFiles(cl);
        EvalOptions o = EvalArgs.evalOptions(cl);
        Device device = EvalArgs.device(cl);
        Path json = cl.hasOption("json") ? Args.reportFile(cl, "json") : null;
        List<String> texts = EvalArgs.readTexts(data);
        Map<String, PerplexityResult> results;
        OptionalLong peak;
        try (PeakMemory watch = PeakMemory.watch(device);
             LlamaModel m = LlamaModel.load(model, device, EvalArgs.storage(cl));
             TextTokenizer tok = Tokenizers.forModel(model)) {
            results = EvalArgs.perFile(data, texts, out, (file, text) -> Perplexity.evaluate(m, tok, text, o.withLabel(file.getFileName().toString())));
            watch.sample();
            peak = watch.peak();
        }
        EvalArgs.report(results, PerplexityResult::combine, PerplexityResult::toJson, peak, out, json);
        return 0;
    }

    /** Options and parsing shared by eval and compare. */
    static final class EvalArgs {
        private EvalArgs() {}

        static void addCommon(Options o) {
            o.addOption(Option.builder().longOpt("window").hasArg().argName("L").desc("tokens per disjoint window (default 512)").build());
            o.addOption(Option.builder().longOpt("device").hasArg().argName("D").desc("cpu (default), gpu or gpu:N").build());
            o.addOption(Option.builder().longOpt("batch").hasArg().argName("B").desc("windows of equal length per forward pass (default: 1 on the CPU, "
                    + "on a GPU as many as fit a quarter of its free memory, at most 64 and 32768 tokens)").build());
            o.addOption(Option.builder().longOpt("fp16-weights").desc("keep the weights in fp16 on the device, widened to fp32 where used (half the memory)").build());
            o.addOption(Option.builder().longOpt("max-tokens").hasArg().argName("N").desc("evaluate at most N tokens of each file (default: all)").build());
            o.addOption(Option.builder().longOpt("from").hasArg().argName("F").desc("evaluate each file's token stream from index int(F*n) on, after one BOS "
                    + "(0.98 = the validation slice of reference.json; default 0 = whole file)").build());
        }

        static Path model(CommandLine cl, String opt) throws IOException {
            Path p = cl.hasOption(opt) ? Path.of(cl.getOptionValue(opt)) : ConvertCommand.DEFAULT_MODEL;
            if (!Files.exists(p)) throw new IOException(p + ": no such file or folder");
            return p;
        }

        static List<Path> dataFiles(CommandLine cl) throws UsageException, IOException {
            return files(cl, "data");
        }

        /** The files named by a multi-valued option, each required to exist. */
        static List<Path> files(CommandLine cl, String opt) throws UsageException, IOException {
            String[] files = cl.getOptionValues(opt);
            if (files == null || files.length == 0) throw new UsageException("missing required option --" + opt);
            List<Path> out = new ArrayList<>();
            for (String f : files) {
                Path p = Path.of(f);
                if (!Files.isRegularFile(p)) throw new IOException(f + ": no such file");
                out.add(p);
            }
            return out;
        }

        static EvalOptions evalOptions(CommandLine cl) throws UsageException {
            int window = Args.intValue(cl, "window", EvalOptions.DEFAULT_WINDOW);
            if (window < 2) throw new UsageException("--window must be at least 2, got " + window);
            long max = Args.longValue(cl, "max-tokens", 0);
            if (max < 0) throw new UsageException("--max-tokens must be positive, got " + max);
            double from = Args.doubleValue(cl, "from", 0);
            if (from < 0 || from >= 1) throw new UsageException("--from must be in [0, 1), got " + from);
            int batch = Args.intValue(cl, "batch", 0);
            if (batch < 0 || (batch == 0 && cl.hasOption("batch"))) throw new UsageException("--batch must be at least 1, got " + batch);
            return EvalOptions.defaults().withWindow(window).withMaxTokens(max).withFrom(from).withBatch(batch)
                    .withProgress(io.headfuse.converter.ConsoleProgress.interactive());
        }

        static WeightStorage storage(CommandLine cl) {
            return cl.hasOption("fp16-weights") ? WeightStorage.FP16 : WeightStorage.FP32;
        }

        static Device device(CommandLine cl) throws UsageException {
            String name = cl.getOptionValue("device", "cpu");
            String n = name.toLowerCase(Locale.ROOT);
            if (!(n.equals("cpu") || n.matches("(gpu|cuda)(:\\d+)?")))
                throw new UsageException("--device expects cpu, gpu or gpu:N, got '" + name + "'");
            return TorchRuntime.device(n);
        }

        static List<String> readTexts(List<Path> files) throws IOException {
            List<String> texts = new ArrayList<>();
            for (Path f : files) {
                TextFiles.requireText(f);
                texts.add(Perplexity.readText(f));
            }
            return texts;
        }

        /** One measurement of one file's text. */
        interface FileMeasure<R> {
            R apply(Path file, String text) throws IOException;
        }

        /** Measures each file, printing each result as it comes; file name -> result, in order. */
        static <R> Map<String, R> perFile(List<Path> files, List<String> texts, PrintStream out, FileMeasure<R> measure) throws IOException {
            Map<String, R> results = new LinkedHashMap<>();
            for (int i = 0; i < files.size(); i++) {
                R r;
                try {
                    r = measure.apply(files.get(i), texts.get(i));
                } catch (IllegalArgumentException e) {
                    // e.g. "text too short": say which file
                    throw new IllegalArgumentException(files.get(i) + ": " + e.getMessage(), e);
                }
                results.put(files.get(i).toString(), r);
                out.println(files.get(i) + ": " + r);
            }
            return results;
        }

        /**
         * Prints the pooled result of several files and the peak device memory, and writes the JSON (pooled keys,
         * "peak_device_bytes" (null where unknown), plus per-file ones under "files").
         */
        static <R> void report(Map<String, R> results, java.util.function.Function<List<R>, R> combine,
                               java.util.function.Function<R, Map<String, Object>> toJson, OptionalLong peak, PrintStream out, Path json) throws IOException {
            R all = combine.apply(List.copyOf(results.values()));
            if (results.size() > 1) out.println("all: " + all);
            out.println("peak device memory: " + DeviceMemory.format(peak));
            if (json == null) return;
            Map<String, Object> doc = new LinkedHashMap<>(toJson.apply(all));
            doc.put("peak_device_bytes", peak.isPresent() ? peak.getAsLong() : null);
            if (results.size() > 1) {
                Map<String, Object> files = new LinkedHashMap<>();
                results.forEach((k, v) -> files.put(k, toJson.apply(v)));
                doc.put("files", files);
            }
            writeJson(json, doc);
        }

        static void writeJson(Path file, Map<String, Object> doc) throws IOException {
            Files.writeString(file, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(io.headfuse.converter.FiniteJson.of(doc)) + "\n");
        }
    }
}
