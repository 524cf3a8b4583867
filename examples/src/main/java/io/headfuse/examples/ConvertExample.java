package io.headfuse.examples;

import io.headfuse.converter.ConversionReport;
import io.headfuse.converter.ConvertOptions;
import io.headfuse.converter.Headfuse;
import io.headfuse.converter.ModelInfo;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Converting a checkpoint from a JVM pipeline, without the CLI: inspect the MHA model, pool it to 2 kv heads,
 * and read the report. Run with {@code mvn -q -pl examples -am exec:java} (or see README.md).
 *
 * <p>Arguments (all optional): MODEL OUT KV. Defaults: the embedded models/headfuse-mha-s, a temp folder, 2.
 */
public final class ConvertExample {
    private ConvertExample() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args.length > 0 ? args[0] : "models/headfuse-mha-s");
        Path out = args.length > 1 ? Path.of(args[1]) : Files.createTempDirectory("headfuse-example").resolve("gqa");
        int kv = args.length > 2 ? Integer.parseInt(args[2]) : 2;

        ModelInfo before = Headfuse.inspect(model);
        System.out.print(before.describe());

        ConversionReport report = Headfuse.convert(ConvertOptions.of(model, out, kv).withForce(true));
        System.out.println(report.summary());
        System.out.printf("KV cache for a %d-token context: %s -> %s%n", ModelInfo.CONTEXT,
                io.headfuse.converter.Units.bytes(before.kvBytesPerContext()),
                io.headfuse.converter.Units.bytes(Headfuse.inspect(out).kvBytesPerContext()));
    }
}
