package io.headfuse.converter.cli;

import io.headfuse.converter.ConsoleProgress;
import io.headfuse.converter.Headfuse;
import io.headfuse.converter.Progress;
import io.headfuse.converter.UptrainOptions;
import io.headfuse.converter.UptrainReport;
import io.headfuse.formats.DType;
import io.headfuse.uptrain.train.TrainerSettings;
import io.headfuse.uptrain.train.UptrainRecipe;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code headfuse uptrain}: distil a converted student back towards its teacher and write the result. */
final class UptrainCommand implements Command {
    @Override public String name() { return "uptrain"; }
    @Override public String summary() { return "train a converted student on its teacher's outputs (distillation) and write it, with before/after perplexity"; }
    @Override public String usage() {
        return "--teacher DIR --student DIR --data FILE... --out DIR [--tokens N] [--seq L] [--batch B] [--accum K] [--lr X] [--warmup F] "
                + "[--loss kl|ce|kl+ce] [--temperature T] [--train all|attention|kv] [--holdout F] [--eval FILE...] [--eval-every N] "
                + "[--seed S] [--device cpu|gpu] [--save-every N] [--resume DIR] [--dtype bf16|f16|f32] [--fp16-weights] [--force]";
    }

    @Override
    public Options options() {
        UptrainRecipe d = UptrainRecipe.defaults(UptrainRecipe.DEFAULT_TOKENS, 1024);
        Options o = new Options();
        o.addOption(opt("teacher", "DIR", "the original model (any format headfuse reads; its tokenizer is used)"));
        o.addOption(opt("student", "DIR", "its conversion (kv maps, coupled or not, are kept)"));
        o.addOption(Option.builder().longOpt("data").hasArgs().argName("FILE").desc("training text (UTF-8; read as Python's text mode reads it)").build());
        o.addOption(opt("out", "DIR", "the HF folder to write (atomically)"));
        o.addOption(opt("tokens", "N", "training tokens (default 2,000,000; 4e5 and 400k work too)"));
        o.addOption(opt("seq", "L", "tokens per training window (default: the smaller of 1024 and the model's positions)"));
        o.addOption(opt("batch", "B", "windows per micro-batch (default " + d.batch() + "; distill_ref.py uses 8: the README's ablation says why 4)"));
        o.addOption(opt("accum", "K", "micro-batches per optimiser step (default 1)"));
        o.addOption(opt("lr", "X", "peak learning rate (default " + d.lr() + "); AdamW betas (0.9, 0.95), no weight decay, cosine to 10%"));
        o.addOption(opt("warmup", "F", "fraction of steps in linear warm-up (default " + d.warmup() + ")"));
        o.addOption(opt("loss", "L", "kl (default: KL(teacher || student) over the vocabulary), ce (next-token cross-entropy) or kl+ce"));
        o.addOption(opt("temperature", "T", "softmax temperature of the KL term, scaled by T^2 (default 1)"));
        o.addOption(opt("ce-weight", "W", "weight of the cross-entropy term with --loss kl+ce (default " + d.ceWeight() + ")"));
        o.addOption(opt("train", "WHAT", "all (default), attention (q/k/v/o) or kv (k/v projections only)"));
        o.addOption(opt("kv-lr-scale", "X", "learning-rate multiplier for k_proj/v_proj, the projections the conversion rewrote (default " + d.kvLrScale() + ")"));
        o.addOption(opt("holdout", "F", "the last F of each data file's tokens is never trained on and is evaluated (default 0.02)"));
        o.addOption(Option.builder().longOpt("eval").hasArgs().argName("FILE").desc("evaluate these files' held-out slices (last --holdout of their tokens) instead of the data files'").build());
        o.addOption(opt("eval-every", "N", "also evaluate every N training tokens (default: before and after only)"));
        o.addOption(opt("eval-tokens", "N", "evaluate at most N tokens of each held-out slice (default: all)"));
        o.addOption(opt("log-every", "N", "read the loss back every N steps (default: about 100 points per run)"));
        o.addOption(opt("seed", "S", "seeds the order of the training windows (default 0)"));
        o.addOption(opt("device", "D", "cpu (default), gpu or gpu:N"));
        o.addOption(opt("save-every", "N", "write a resumable state (fp32 weights, optimiser moments, step) every N tokens"));
        o.addOption(opt("state", "DIR", "where --save-every writes (default: OUT-state beside --out)"));
        o.addOption(opt("resume", "DIR", "continue the same run from a state written by --save-every"));
        o.addOption(opt("dtype", "T", "output dtype: bf16, f16 or f32 (default: the student's)"));
        o.addOption(Option.builder().longOpt("fp16-weights").desc("keep frozen weights (the teacher, the student's untrained tensors) in fp16 on the device, widened to fp32 where used").build());
        o.addOption(Option.builder().longOpt("force").desc("replace an existing output folder").build());
        return o;
    }

    private static Option opt(String name, String arg, String desc) {
        return Option.builder().longOpt(name).hasArg().argName(arg).desc(desc).build();
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        if (!cl.hasOption("teacher")) throw new UsageException("missing required option --teacher");
        if (!cl.hasOption("student")) throw new UsageException("missing required option --student");
        Path teacher = EvalCommand.EvalArgs.model(cl, "teacher");
        Path student = EvalCommand.EvalArgs.model(cl, "student");
        List<Path> data = EvalCommand.EvalArgs.dataFiles(cl);
        Path outDir = Args.path(cl, "out");
        int seq = Args.intValue(cl, "seq", 0);
        if (!cl.hasOption("seq")) seq = Headfuse.defaultSeq(student);
        UptrainRecipe recipe;
        try {
            recipe = UptrainRecipe.defaults(Args.count(cl, "tokens", UptrainRecipe.DEFAULT_TOKENS), seq)
                    .withBatch(Args.intValue(cl, "batch", UptrainRecipe.DEFAULT_BATCH))
                    .withAccum(Args.intValue(cl, "accum", 1))
                    .withLr(Args.doubleValue(cl, "lr", 3e-4))
                    .withWarmup(Args.doubleValue(cl, "warmup", 0.05))
                    .withLoss(UptrainRecipe.Loss.parse(cl.getOptionValue("loss", "kl")))
                    .withTemperature(Args.doubleValue(cl, "temperature", 1.0))
                    .withCeWeight(Args.doubleValue(cl, "ce-weight", 0.5))
                    .withScope(UptrainRecipe.Scope.parse(cl.getOptionValue("train", "all")))
                    .withKvLrScale(Args.doubleValue(cl, "kv-lr-scale", 1.0))
                    .withSeed(Args.longValue(cl, "seed", 0));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        TrainerSettings settings;
        try {
            settings = new TrainerSettings(Args.count(cl, "eval-every", 0), seq, Args.count(cl, "eval-tokens", 0),
                    Args.intValue(cl, "log-every", 0), Args.count(cl, "save-every", 0));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        List<Path> evalFiles = cl.hasOption("eval") ? EvalCommand.EvalArgs.files(cl, "eval") : List.of();
        String device = cl.getOptionValue("device", "cpu");
        if (!device.toLowerCase(java.util.Locale.ROOT).matches("cpu|(gpu|cuda)(:\\d+)?"))
            throw new UsageException("--device expects cpu, gpu or gpu:N, got '" + device + "'");
        UptrainOptions o;
        try {
            o = UptrainOptions.of(teacher, student, data, outDir).withRecipe(recipe).withSettings(settings)
                    .withHoldout(Args.doubleValue(cl, "holdout", UptrainOptions.DEFAULT_HOLDOUT)).withEvalFiles(evalFiles)
                    .withDtype(cl.hasOption("dtype") ? DType.parse(cl.getOptionValue("dtype")) : null).withDevice(device)
                    .withForce(cl.hasOption("force")).withFp16Weights(cl.hasOption("fp16-weights"))
                    .withStateDir(cl.hasOption("state") ? Path.of(cl.getOptionValue("state")) : null)
                    .withResume(cl.hasOption("resume") ? Path.of(cl.getOptionValue("resume")) : null);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        try (Progress progress = new ConsoleProgress()) {
            UptrainReport r = Headfuse.uptrain(o, progress);
            out.print(r.summary());
        }
        return 0;
    }
}
