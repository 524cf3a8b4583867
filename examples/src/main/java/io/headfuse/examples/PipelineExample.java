package io.headfuse.examples;

import ai.djl.Device;
import io.headfuse.converter.ConversionReport;
import io.headfuse.converter.ConvertOptions;
import io.headfuse.converter.Headfuse;
import io.headfuse.converter.UptrainOptions;
import io.headfuse.converter.UptrainReport;
import io.headfuse.uptrain.eval.Comparison;
import io.headfuse.uptrain.eval.ComparisonResult;
import io.headfuse.uptrain.eval.EvalOptions;
import io.headfuse.uptrain.train.UptrainRecipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The whole pipeline from a JVM, without the CLI: convert an MHA model to fewer kv heads, uptrain the student on its
 * teacher's outputs, and compare teacher, converted and uptrained students on the same text. On the CPU with the
 * embedded model and a tiny budget it takes about a minute; on a GPU give it {@code gpu} and real text and tokens.
 *
 * <p>Arguments (all optional): MODEL WORK TEXT TOKENS DEVICE. Defaults: models/headfuse-mha-s, a temp folder, README.md,
 * 8192, cpu. The last 2% of TEXT's tokens are held out of training and are what the report measures.
 */
public final class PipelineExample {
    private PipelineExample() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args.length > 0 ? args[0] : "models/headfuse-mha-s");
        Path work = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("headfuse-pipeline");
        Path text = Path.of(args.length > 2 ? args[2] : "README.md");
        long tokens = args.length > 3 ? Long.parseLong(args[3]) : 8192;
        String device = args.length > 4 ? args[4] : "cpu";

        // 1. convert: mean-pooling to 2 kv heads (asym with --calib text does better; mean needs no calibration).
        Path student = work.resolve("gqa2");
        ConversionReport converted = Headfuse.convert(ConvertOptions.of(model, student, 2).withForce(true));
        System.out.println(converted.summary());

        // 2. uptrain: distil the student from the teacher (KL over the vocabulary), short windows for a small text.
        Path uptrained = work.resolve("gqa2-uptrained");
        UptrainRecipe recipe = UptrainRecipe.defaults(tokens, 128).withBatch(4);
        UptrainReport trained = Headfuse.uptrain(UptrainOptions.of(model, student, List.of(text), uptrained)
                .withRecipe(recipe).withDevice(device).withForce(true));
        System.out.print(trained.summary());

        // 3. compare: teacher against each student, on the text (KL(teacher || student) and both perplexities).
        EvalOptions eval = EvalOptions.defaults().withWindow(128);
        Device d = io.headfuse.uptrain.model.TorchRuntime.device(device);
        for (Path s : new Path[] {student, uptrained}) {
            ComparisonResult cmp = Comparison.run(model, s, text, eval, d);
            System.out.println(s.getFileName() + " on " + text + ": " + cmp);
        }
    }
}
