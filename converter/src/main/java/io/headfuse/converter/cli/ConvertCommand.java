package io.headfuse.converter.cli;

import io.headfuse.converter.ConsoleProgress;
import io.headfuse.converter.ConversionReport;
import io.headfuse.converter.ConvertOptions;
import io.headfuse.converter.Headfuse;
import io.headfuse.converter.Progress;
import io.headfuse.converter.Units;
import io.headfuse.formats.DType;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code headfuse convert}: MHA (or GQA) in, GQA/MQA HF checkpoint out. */
final class ConvertCommand implements Command {
    /** The model shipped in the repo, used when --model is left out. */
    static final Path DEFAULT_MODEL = Path.of(System.getProperty("headfuse.home", "."), "models", "headfuse-mha-s");

    @Override public String name() { return "convert"; }
    @Override public String summary() { return "rewrite a checkpoint's K/V heads for fewer kv heads (GQA/MQA) and write an HF checkpoint"; }
    @Override public String usage() { return "[--model IN] --out OUT --kv-heads N [--strategy mean|asym] [--dtype bf16|f16|f32] [--shard-size SIZE] [--force] [--calib FILE... [--calib-tokens N] [--align] [--lsq] [--coupled] [--grouping swaps|ward] [--seed S]] [--strategy dha [--uniform] [--decoupled] [--difficulty loss|reconstruction] [--probe-tokens N]]"; }

    @Override
    public Options options() {
        return ConvertArgs.options();
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        ConvertOptions o = ConvertArgs.parse(cl, true);
        try (Progress progress = new ConsoleProgress()) {
            ConversionReport r = Headfuse.convert(o, progress);
            out.println(r.summary());
        }
        return 0;
    }

    /** Options shared by convert and plan. */
    static final class ConvertArgs {
        private ConvertArgs() {}

        static Options options() {
            Options o = new Options();
            o.addOption(Option.builder().longOpt("model").hasArg().argName("IN").desc("input checkpoint: HF folder, Meta folder or llama2.c .bin (default: the embedded models/headfuse-mha-s)").build());
            o.addOption(Option.builder().longOpt("out").hasArg().argName("OUT").desc("output folder (must not exist unless --force)").build());
            o.addOption(Option.builder().longOpt("kv-heads").hasArg().argName("N").desc("kv heads after conversion; must divide the head count (1 = MQA)").build());
            o.addOption(Option.builder().longOpt("strategy").hasArg().argName("NAME").desc("mean (GQA paper mean-pooling, default), asym (activation-informed grouping) or dha (per-layer K/V budgets)").build());
            o.addOption(Option.builder().longOpt("dtype").hasArg().argName("T").desc("output dtype: bf16, f16 or f32 (default: as stored)").build());
            o.addOption(Option.builder().longOpt("shard-size").hasArg().argName("SIZE").desc("largest shard, e.g. 5GB (default), 500MB, 2GiB").build());
            o.addOption(Option.builder().longOpt("force").desc("replace an existing output folder").build());
            o.addOption(Option.builder().longOpt("calib").hasArgs().argName("FILE").desc("calibration text file(s) (asym)").build());
            o.addOption(Option.builder().longOpt("calib-tokens").hasArg().argName("N").desc("calibration tokens (default 65536)").build());
            o.addOption(Option.builder().longOpt("align").desc("align heads before merging them (asym)").build());
            o.addOption(Option.builder().longOpt("lsq").desc("pool each group by least squares instead of the mean (asym)").build());
            o.addOption(Option.builder().longOpt("coupled").desc("one grouping for K and V, loadable by plain transformers (asym)").build());
            o.addOption(Option.builder().longOpt("grouping").hasArg().argName("G").desc("swaps (equal-size groups, default) or ward (unequal sizes; needs headfuse's head maps) (asym)").build());
            o.addOption(Option.builder().longOpt("objective").hasArg().argName("O").desc("reconstruction (error of the pooled head, default) or similarity (within-group similarity) (asym)").build());
            o.addOption(Option.builder().longOpt("similarity").hasArg().argName("S").desc("cosine (default) or cka: head similarity for the similarity objective and the heatmaps (asym)").build());
            o.addOption(Option.builder().longOpt("uniform").desc("dha: export the nearest uniform layout (asym --align --lsq --coupled), a standard GQA checkpoint").build());
            o.addOption(Option.builder().longOpt("decoupled").desc("dha: K and V of a layer get their own groups and counts (default: shared)").build());
            o.addOption(Option.builder().longOpt("difficulty").hasArg().argName("D").desc("dha: price head counts by the calibration loss of collapsing each layer (loss, default) or by the reconstruction error (reconstruction)").build());
            o.addOption(Option.builder().longOpt("probe-tokens").hasArg().argName("N").desc("dha: calibration tokens each loss probe evaluates (default 2048)").build());
            o.addOption(Option.builder().longOpt("seed").hasArg().argName("S").desc("seed of the grouping search (asym, default 0)").build());
            return o;
        }

        static ConvertOptions parse(CommandLine cl, boolean needOut) throws UsageException {
            Path model = cl.hasOption("model") ? Path.of(cl.getOptionValue("model")) : DEFAULT_MODEL;
            Path out = needOut ? Args.path(cl, "out") : Path.of(cl.getOptionValue("out", "."));
            int kv = Args.intValue(cl, "kv-heads", -1);
            if (kv == -1) throw new UsageException("missing required option --kv-heads");
            if (kv <= 0) throw new UsageException("--kv-heads must be positive, got " + kv);
            ConvertOptions o = ConvertOptions.of(model, out, kv).withStrategy(cl.getOptionValue("strategy", "mean")).withForce(cl.hasOption("force"));
            if (cl.hasOption("dtype")) {
                try {
                    o = o.withDtype(DType.parse(cl.getOptionValue("dtype")));
                } catch (IllegalArgumentException e) {
                    throw new UsageException(e.getMessage());
                }
            }
            if (cl.hasOption("shard-size")) {
                try {
                    o = o.withShardSize(Units.parseSize(cl.getOptionValue("shard-size")));
                } catch (NumberFormatException e) {
                    throw new UsageException("--shard-size expects a size such as 5GB or 500MB, got '" + cl.getOptionValue("shard-size") + "'");
                }
            }
            String[] calib = cl.getOptionValues("calib");
            o = o.withCalibration(calib == null ? List.of() : java.util.Arrays.stream(calib).map(Path::of).toList(),
                    Args.intValue(cl, "calib-tokens", ConvertOptions.DEFAULT_CALIB_TOKENS));
            o = choice(cl, o, "grouping", "search", "swaps", "ward");
            o = choice(cl, o, "objective", "objective", "reconstruction", "similarity");
            o = choice(cl, o, "similarity", "similarity", "cosine", "cka");
            if (cl.hasOption("uniform")) {
                if (!o.strategy().equals("dha")) throw new UsageException("--uniform is an option of --strategy dha");
                o = o.withSetting("uniform", "true");
            }
            if ((cl.hasOption("decoupled") || cl.hasOption("difficulty") || cl.hasOption("probe-tokens")) && !o.strategy().equals("dha"))
                throw new UsageException("--decoupled, --difficulty and --probe-tokens are options of --strategy dha");
            if (cl.hasOption("probe-tokens")) {
                int t = Args.intValue(cl, "probe-tokens", 0);
                if (t < 2) throw new UsageException("--probe-tokens must be at least 2, got " + t);
                o = o.withSetting("dha_probe_tokens", Integer.toString(t));
            }
            if (cl.hasOption("decoupled")) o = o.withSetting("dha_decoupled", "true");
            o = choice(cl, o, "difficulty", "dha_difficulty", "loss", "reconstruction");
            return o.withAsym(cl.hasOption("align"), cl.hasOption("lsq"), cl.hasOption("coupled"), Args.longValue(cl, "seed", 0));
        }

        /** An option with a fixed set of values, passed to the strategy as {@code setting}. */
        private static ConvertOptions choice(CommandLine cl, ConvertOptions o, String opt, String setting, String... allowed) throws UsageException {
            String v = cl.getOptionValue(opt);
            if (v == null) return o;
            if (!java.util.Arrays.asList(allowed).contains(v))
                throw new UsageException("--" + opt + " must be one of " + String.join(", ", allowed) + ", got '" + v + "'");
            return o.withSetting(setting, v);
        }
    }
}
