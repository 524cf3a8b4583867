package io.headfuse.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.converter.cli.Main;
import io.headfuse.testkit.Assets;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU bundle (bench/gpu-stage.sh) leaves ND4J and bytedeco's jars out: `convert --strategy asym` and
 * `--strategy dha` must still run there, on the plain-Java linear algebra, chosen automatically. Run in a real JVM
 * whose class path is this one's without those jars, as the bundle's is.
 */
class ConvertWithoutNd4jTest {
    /** gpu-stage.sh's EXCLUDED_JARS, the ND4J part. */
    private static final List<String> EXCLUDED = List.of("/org/nd4j/", "/org/bytedeco/");

    @TempDir Path tmp;

    static String classPathWithoutNd4j() {
        String[] all = System.getProperty("java.class.path").split(File.pathSeparator);
        String kept = Arrays.stream(all).filter(e -> EXCLUDED.stream().noneMatch(e::contains)).collect(Collectors.joining(File.pathSeparator));
        assertTrue(all.length > kept.split(File.pathSeparator).length, "the test class path has no ND4J jars to leave out");
        return kept;
    }

    /** Runs the CLI in a JVM without ND4J; returns exit code and output (stdout and stderr together). */
    private Result headfuse(String linalg, String... args) throws IOException, InterruptedException {
        return headfuse(classPathWithoutNd4j(), List.of(), linalg, args);
    }

    private Result headfuse(String classPath, List<String> jvmFlags, String linalg, String... args) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx2g"));
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", classPath, Main.class.getName()));
        cmd.addAll(List.of(args));
        Path log = tmp.resolve("log-" + System.nanoTime() + ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().remove("HEADFUSE_LINALG");
        if (linalg != null) pb.environment().put("HEADFUSE_LINALG", linalg);
        Process p = pb.start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("headfuse did not finish in 300 s:\n" + Files.readString(log));
        }
        return new Result(p.exitValue(), Files.readString(log));
    }

    record Result(int code, String output) {}

    @Test void asymAndDhaConvertOnPlainJava() throws Exception {
        for (String strategy : List.of("asym", "dha")) {
            Path out = tmp.resolve(strategy);
            Result r = headfuse(null, "convert", "--model", Assets.model("headfuse-mha-s").toString(), "--out", out.toString(),
                    "--kv-heads", "2", "--strategy", strategy, "--calib", Assets.text("sotu/sotu-1790-2021.txt").toString(),
                    "--calib-tokens", "4096");
            System.out.println(strategy + " without ND4J:\n" + r.output());
            assertEquals(0, r.code(), r.output());
            assertTrue(r.output().contains("headfuse: linear algebra on plain Java"), r.output());
            assertTrue(r.output().contains("no ND4J classes on the class path"), r.output());
            assertEquals(1, r.output().lines().filter(l -> l.contains("linear algebra on")).count(), "one backend line");
            assertFalse(r.output().contains("INFO org.nd4j"), "ND4J's backend logged:\n" + r.output());
            // 2 kv heads per layer (on average for DHA: the per-layer counts sum to 2 x 2 x 4 layers).
            JsonNode config = Assets.json(out.resolve("config.json"));
            if (strategy.equals("asym")) {
                assertEquals(2, config.path("num_key_value_heads").asInt(), config.toString());
            } else {
                int heads = 0;
                for (JsonNode n : config.path("headfuse").path("k_heads")) heads += n.asInt();
                for (JsonNode n : config.path("headfuse").path("v_heads")) heads += n.asInt();
                assertEquals(2 * 2 * 4, heads, config.toString());
            }
        }
    }

    @Test void forcingNd4jWithoutItFailsWithOneLine() throws Exception {
        Path out = tmp.resolve("out");
        Result r = headfuse("nd4j", "convert", "--model", Assets.model("headfuse-mha-s").toString(), "--out", out.toString(),
                "--kv-heads", "2", "--strategy", "asym", "--calib", Assets.text("sotu/sotu-1790-2021.txt").toString(), "--calib-tokens", "1024");
        System.out.println("HEADFUSE_LINALG=nd4j without ND4J:\n" + r.output());
        assertEquals(1, r.code(), r.output());
        assertTrue(r.output().contains("HEADFUSE_LINALG=nd4j, but ND4J does not load"), r.output());
        assertFalse(Files.exists(out), "no output left behind");
    }

    /** With ND4J on the class path but HEADFUSE_LINALG=java, the JVM loads no ND4J class at all (its class-load log). */
    @Test void forcedJavaLoadsNoNd4jClass() throws Exception {
        Path out = tmp.resolve("out"), classes = tmp.resolve("classes.txt");
        Result r = headfuse(System.getProperty("java.class.path"), List.of("-Xlog:class+load=info:file=" + classes), "java", "convert",
                "--model", Assets.model("headfuse-mha-s").toString(), "--out", out.toString(), "--kv-heads", "2", "--strategy", "asym",
                "--calib", Assets.text("sotu/sotu-1790-2021.txt").toString(), "--calib-tokens", "1024");
        assertEquals(0, r.code(), r.output());
        assertTrue(r.output().contains("headfuse: linear algebra on plain Java on"), r.output());
        assertTrue(r.output().contains("(HEADFUSE_LINALG=java)"), r.output());
        List<String> loaded = Files.readAllLines(classes);
        assertTrue(loaded.stream().anyMatch(l -> l.contains("io.headfuse.fusion.linalg.JavaBackend")), "class-load log without headfuse's classes");
        assertEquals(List.of(), loaded.stream().filter(l -> l.contains("org.nd4j") || l.contains("org.bytedeco") || l.contains("Nd4jBackend")).toList());
    }
}
