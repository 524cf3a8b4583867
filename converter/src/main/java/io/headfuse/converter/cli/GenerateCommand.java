package io.headfuse.converter.cli;

import ai.djl.Device;
import io.headfuse.converter.cli.EvalCommand.EvalArgs;
import io.headfuse.uptrain.eval.Generator;
import io.headfuse.uptrain.eval.Sampling;
import io.headfuse.uptrain.model.LlamaModel;
import io.headfuse.uptrain.tokenizer.TextTokenizer;
import io.headfuse.uptrain.tokenizer.Tokenizers;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

/** {@code headfuse generate}: continue a prompt, printing the text as it is generated. */
final class GenerateCommand implements Command {
    @Override public String name() { return "generate"; }
    @Override public String summary() { return "continue a prompt with a checkpoint (greedy at temperature 0)"; }
    @Override public String usage() { return "--model DIR --prompt TEXT [-n N] [--temperature T] [--top-p P] [--seed S] [--device cpu|gpu]"; }

    @Override
    public Options options() {
        Options o = new Options();
        o.addOption(Option.builder().longOpt("model").hasArg().argName("DIR").desc("checkpoint: HF folder, Meta folder or llama2.c .bin (default: the embedded models/headfuse-mha-s)").build());
        o.addOption(Option.builder().longOpt("prompt").hasArg().argName("TEXT").desc("text to continue (default: empty, i.e. from BOS)").build());
        o.addOption(Option.builder("n").longOpt("tokens").hasArg().argName("N").desc("tokens to generate (default 128); stops early at EOS or the context length").build());
        o.addOption(Option.builder().longOpt("temperature").hasArg().argName("T").desc("sampling temperature; 0 = greedy (default 0)").build());
        o.addOption(Option.builder().longOpt("top-p").hasArg().argName("P").desc("nucleus sampling: sample from the most likely tokens holding P of the probability (default 1)").build());
        o.addOption(Option.builder().longOpt("seed").hasArg().argName("S").desc("random seed for sampling (default 0)").build());
        o.addOption(Option.builder().longOpt("device").hasArg().argName("D").desc("cpu (default), gpu or gpu:N").build());
        return o;
    }

    @Override
    public int run(CommandLine cl, PrintStream out) throws Exception {
        Path model = EvalArgs.model(cl, "model");
        String prompt = cl.getOptionValue("prompt", "");
        int n = Args.intValue(cl, "tokens", 128);
        if (n < 0) throw new UsageException("-n must be positive, got " + n);
        double temperature = Args.doubleValue(cl, "temperature", 0);
        double topP = Args.doubleValue(cl, "top-p", 1);
        Sampling sampling;
        try {
            sampling = new Sampling(temperature, topP, Args.longValue(cl, "seed", 0));
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        Device device = EvalArgs.device(cl);
        try (LlamaModel m = LlamaModel.load(model, device); TextTokenizer tok = Tokenizers.forModel(model)) {
            int[] promptIds = tok.encode(prompt, true);
            if (promptIds.length == 0 || promptIds[0] != tok.bosId()) promptIds = prepend(tok.bosId(), promptIds);
            StreamingText text = new StreamingText(tok, promptIds, out);
            int eos = tok.eosId();
            Generator.generate(m, promptIds, n, sampling, t -> t == eos, text::add);
            out.println();
            out.flush();
        }
        return 0;
    }

    private static int[] prepend(int first, int[] rest) {
        int[] out = new int[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    /**
     * Prints the decoded text as tokens arrive. Decoding the whole sequence each time (rather than token by
     * token) keeps detokenizer rules that look at neighbours right, and a trailing U+FFFD (half of a multi-byte
     * character split over byte tokens) is held back until the next token completes it.
     */
    private static final class StreamingText {
        private final TextTokenizer tok;
        private final PrintStream out;
        private int[] ids;
        private int printed;

        StreamingText(TextTokenizer tok, int[] prompt, PrintStream out) {
            this.tok = tok;
            this.out = out;
            this.ids = prompt.clone();
            String text = tok.decode(ids);
            out.print(text);
            out.flush();
            printed = text.length();
        }

        void add(int token) {
            ids = Arrays.copyOf(ids, ids.length + 1);
            ids[ids.length - 1] = token;
            String text = tok.decode(ids);
            if (text.endsWith("\uFFFD") || text.length() < printed) return;
            out.print(text.substring(printed));
            out.flush();
            printed = text.length();
        }
    }
}
