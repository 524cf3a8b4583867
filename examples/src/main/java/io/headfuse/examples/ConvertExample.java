package io.headfuse.examples;

import ai.djl.Device;
import io.headfuse.converter.ConversionReport;
import io.headfuse.converter.ConvertOptions;
import io.headfuse.converter.Headfuse;
import io.headfuse.converter.ModelInfo;
import io.headfuse.uptrain.eval.Comparison;
import io.headfuse.uptrain.eval.ComparisonResult;
import io.headfuse.uptrain.eval.EvalOptions;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Converting a checkpoint from a JVM pipeline, without the CLI: inspect the MHA model, pool it to fewer kv
 * heads, read the report, and measure the before/after perplexity and KL on some text. Run {@code examples/run.sh}.
 *
 * <p>Arguments (all optional): MODEL OUT KV TEXT. Defaults: the embedded models/headfuse-mha-s, a temp folder,
 * 2, and README.md (any English text will do).
 */
public final class ConvertExample {
    private ConvertExample() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args.length > 0 ? args[0] : "models/headfuse-mha-s");
        Path out = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("headfuse-example").resolve("gqa");
        int kv = args.length > 2 ? Integer.parseInt(args[2]) : 2;
        Path text = Path.of(args.length > 3 ? args[3] : "README.md");

        ModelInfo before = Headfuse.inspect(model);
        System.out.print(before.describe());

        ConversionReport report = Headfuse.convert(ConvertOptions.of(model, out, kv).withForce(true));
        System.out.println(report.summary());
        System.out.printf("KV cache for a %d-token context: %s -> %s%n", ModelInfo.CONTEXT,
                io.headfuse.converter.Units.bytes(before.kvBytesPerContext()),
                io.headfuse.converter.Units.bytes(Headfuse.inspect(out).kvBytesPerContext()));

        // Before/after: both models on the same tokens, and how far the student's next-token distribution moved.
        ComparisonResult cmp = Comparison.run(model, out, text, EvalOptions.defaults(), Device.cpu());
        System.out.println(text + ": " + cmp);
    }
}
