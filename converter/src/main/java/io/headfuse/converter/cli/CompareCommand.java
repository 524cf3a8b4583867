package io.headfuse.converter.cli;

import ai.djl.Device;
import io.headfuse.converter.cli.EvalCommand.EvalArgs;
import io.headfuse.uptrain.eval.Comparison;
import io.headfuse.uptrain.eval.ComparisonResult;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.model.PeakMemory;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code headfuse compare}: a conversion's before/after report (both perplexities and KL(teacher || student)). */
final class CompareCommand implements Command {
    @Override public String name() { return "compare"; }
    @Override public String summary() { return "perplexity of teacher and student, and mean per-token KL(teacher || student)"; }
    @Override public String usage() { return "--teacher A --student B --data FILE... [--window L] [--device cpu|gpu] [--batch B] [--fp16-weights] [--max-tokens N] [--from F] [--json OUT]"; }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("teacher").hasArg().argName("A").desc("the reference checkpoint (its tokenizer is used)").build());
        o.addOption(Option.builder().longOpt("student").hasArg().argName("B").desc("the checkpoint measured against it (same vocabulary)").build());
        o.addOption(Option.builder().longOpt("data").hasArgs().argName("FILE").desc("UTF-8 text file(s)").build());
        EvalArgs.addCommon(o);
        o.addOption(Option.builder().longOpt("json").hasArg().argName("OUT").desc("also write the result as JSON to OUT (its folder must exist; non-finite numbers are written as null with a note)").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        if (!cl.hasOption("teacher")) throw new UsageException("missing required option --teacher");
        if (!cl.hasOption("student")) throw new UsageException("missing required option --student");
        Path teacherDir = EvalArgs.model(cl, "teacher");
        Path studentDir = EvalArgs.model(cl, "student");
        List<Path> data = EvalArgs.dataFiles(cl);
        EvalOptions o = EvalArgs.evalOptions(cl);
        Device device = EvalArgs.device(cl);
        Path json = cl.hasOption("json") ? Args.reportFile(cl, "json") : null;
        List<String> texts = EvalArgs.readTexts(data);
        Map<String, ComparisonResult> results;
        OptionalLong peak;
        try (PeakMemory watch = PeakMemory.watch(device);
             LlamaModel teacher = LlamaModel.load(teacherDir, device, EvalArgs.storage(cl));
             LlamaModel student = LlamaModel.load(studentDir, device, EvalArgs.storage(cl));
             TextTokenizer tok = Tokenizers.forModel(teacherDir)) {
            results = EvalArgs.perFile(data, texts, out,
                    (file, text) -> Comparison.run(teacher, student, tok, text, o.withLabel(file.getFileName().toString())));
            watch.sample();
            peak = watch.peak();
        }
        EvalArgs.report(results, ComparisonResult::combine, ComparisonResult::toJson, peak, out, json);
        return 0;
    }
}
