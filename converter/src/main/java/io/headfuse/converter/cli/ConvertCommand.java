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
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code headfuse convert}: MHA (or GQA) in, GQA/MQA HF checkpoint out. */
final class ConvertCommand implements Command {
    /** The model shipped in the repo, used when --model is left out. */
    static final Path DEFAULT_MODEL = Path.of(System.getProperty("headfuse.home", "."), "models", "headfuse-mha-s");

    @Override public String name() { return "convert"; }
    @Override public String summary() { return "rewrite a checkpoint's K/V heads for fewer kv heads (GQA/MQA) and write an HF checkpoint"; }
    @Override public String usage() { return "[--model IN] --out OUT --kv-heads N [--dtype bf16|f16|f32] [--shard-size SIZE] [--force] [--strategy mean | --strategy asym --calib FILE... [--calib-tokens N] [--calib-device D] [--calib-layerwise auto|yes|no] [--no-align] [--no-lsq] [--decoupled] [--grouping swaps|ward] [--objective O] [--similarity cka|cosine] [--seed S] [--restarts N] | --strategy dha --calib FILE... [--calib-tokens N] [--calib-device D] [--calib-layerwise auto|yes|no] [--uniform] [--decoupled] [--difficulty loss|reconstruction] [--probe-tokens N] [--data FILE... [--tokens N] [--device cpu|gpu] [--fusion-seq N] [--fusion-batch N] [--fusion-lr X] [--operator-lr X] [--fusion-rho X] [--multiplier-every N]]]"; }

    @Override
    public Options options() {
        return ConvertArgs.options();
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        ConvertOptions o = ConvertArgs.parse(cl);
        try {
            Headfuse.checkFusion(o);   // learned-fusion settings against the model's positions: usage errors, before any work
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        try (Progress progress = new ConsoleProgress()) {
            ConversionReport r = Headfuse.convert(o, progress);
            out.println(r.summary());
        }
        return 0;
    }

    /** Options shared by convert and plan. */
    static final class ConvertArgs {
        private ConvertArgs() {}

        /** What convert and plan share: the input, the kv head count, the strategy and its flags. */
        static Options common() {
            Options o = new Options();
            o.addOption(Option.builder().longOpt("model").hasArg().argName("IN").desc("input checkpoint: HF folder, Meta folder or llama2.c .bin (default: the embedded models/headfuse-mha-s)").build());
            o.addOption(Option.builder().longOpt("kv-heads").hasArg().argName("N").desc("kv heads after conversion; must divide the head count (1 = MQA)").build());
            StrategyArgs.addTo(o);
            return o;
        }

        static Options options() {
            Options o = common();
            o.addOption(Option.builder().longOpt("out").hasArg().argName("OUT").desc("output folder (must not exist unless --force)").build());
            o.addOption(Option.builder().longOpt("dtype").hasArg().argName("T").desc("output dtype: bf16, f16 or f32 (default: as stored)").build());
            o.addOption(Option.builder().longOpt("shard-size").hasArg().argName("SIZE").desc("largest shard, e.g. 5GB (default), 500MB, 2GiB").build());
            o.addOption(Option.builder().longOpt("force").desc("replace an existing output folder, but only an earlier model output (holding headfuse.json, "
                    + "or only checkpoint files) or an empty folder; anything else is refused").build());
            return o;
        }

        /** The input, kv heads and strategy; {@code out} is where a conversion would write. */
        static ConvertOptions common(CommandLine cl, Path out) throws UsageException {
            Path model = cl.hasOption("model") ? Path.of(cl.getOptionValue("model")) : DEFAULT_MODEL;
            int kv = Args.intValue(cl, "kv-heads", -1);
            if (kv == -1) throw new UsageException("missing required option --kv-heads");
            if (kv <= 0) throw new UsageException("--kv-heads must be positive, got " + kv);
            return StrategyArgs.apply(cl, ConvertOptions.of(model, out, kv));
        }

        static ConvertOptions parse(CommandLine cl) throws UsageException {
            ConvertOptions o = common(cl, Args.path(cl, "out")).withForce(cl.hasOption("force"));
            if (cl.hasOption("dtype")) {
                try {
                    o = o.withDtype(DType.parse(cl.getOptionValue("dtype")));
                } catch (IllegalArgumentException e) {
                    throw new UsageException(e.getMessage());
                }
            }
            if (cl.hasOption("shard-size")) {
                long size;
                try {
                    size = Units.parseSize(cl.getOptionValue("shard-size"));
                } catch (NumberFormatException e) {
                    throw new UsageException("--shard-size expects a size such as 5GB or 500MB, got '" + cl.getOptionValue("shard-size") + "'");
                }
                if (size <= 0) throw new UsageException("--shard-size must be positive, got '" + cl.getOptionValue("shard-size") + "'");
                o = o.withShardSize(size);
            }
            return o;
        }
    }
}
