package io.headfuse.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.converter.cli.Main;
import io.headfuse.testkit.Assets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7, items 1-3 through the CLI: --force cannot destroy a foreign folder, symlinks cannot lead into the input,
 * and a conversion killed (kill -9) or interrupted (Ctrl-C) in the middle of writing leaves nothing that a later
 * run does not remove. The kill tests run the CLI in a real JVM, as {@code ./headfuse} does.
 */
class CliDataSafetyTest {
    @TempDir Path tmp;

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test void forceOverAForeignFolderFailsAndKeepsEveryFile() throws IOException {
        Path home = Files.createDirectories(tmp.resolve("home"));
        Files.writeString(home.resolve(".bashrc"), "export PATH");
        Files.createDirectories(home.resolve("src/project")).resolve("Main.java").toFile().createNewFile();
        Files.writeString(home.resolve("config.json"), "{}");
        Map<String, String> before = Cli.hashes(home);
        Cli r = Cli.run("convert", "--model", Assets.model("stories260K-mha-hf").toString(), "--out", home.toString(), "--kv-heads", "4", "--force");
        assertEquals(1, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(home + ": --force replaces only an earlier model output") && r.err().contains("'.bashrc'"), r.err());
        assertEquals(before, Cli.hashes(home));
        assertEquals(List.of("home"), names(tmp));
    }

    @Test void symlinksIntoTheInputAreRefused() throws IOException {
        Path in = Cli.copyDir(Assets.model("stories260K-mha-hf"), tmp.resolve("input"));
        Map<String, String> before = Cli.hashes(in);
        Path link = Files.createSymbolicLink(tmp.resolve("link"), in);
        Cli viaOut = Cli.run("convert", "--model", in.toString(), "--out", link.resolve("sub").toString(), "--kv-heads", "4");
        Cli viaModel = Cli.run("convert", "--model", link.toString(), "--out", in.resolve("sub").toString(), "--kv-heads", "4");
        for (Cli r : List.of(viaOut, viaModel)) {
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains("overlaps the input"), r.err());
        }
        assertEquals(before, Cli.hashes(in));
        assertEquals(List.of("input", "link"), names(tmp));
    }

    /** A real headfuse JVM converting headfuse-mha-m to f32 in small shards (slow enough to be caught mid-write). */
    private Process startConversion(Path out) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx1g",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "convert", "--model", Assets.model("headfuse-mha-m").toString(), "--out", out.toString(), "--kv-heads", "2",
                "--dtype", "f32", "--shard-size", "2MB")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("log.txt").toFile()).start();
    }

    /** Waits until the process has written a shard into its staging folder; false if it finished first. */
    private boolean awaitStagedShard(Process p, Path out) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && p.isAlive()) {
            try (Stream<Path> s = Files.list(out.getParent())) {
                for (Path d : s.filter(x -> x.getFileName().toString().startsWith(".out.headfuse-") && Files.isDirectory(x)).toList()) {
                    try (Stream<Path> f = Files.list(d)) {
                        if (f.anyMatch(x -> x.getFileName().toString().startsWith("model-00002"))) return true;
                    } catch (IOException vanished) {
                        // renamed or removed meanwhile
                    }
                }
            }
            Thread.sleep(5);
        }
        return false;
    }

    @Test void killMinusNineThenANewConversionLeavesOnlyTheOutput() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work"));
        Path out = work.resolve("out");
        Process p = startConversion(out);
        assertTrue(awaitStagedShard(p, out), "caught the conversion while it wrote shards: " + Files.readString(tmp.resolve("log.txt")));
        p.destroyForcibly(); // SIGKILL: no shutdown hook runs
        p.waitFor();
        List<String> left = names(work);
        assertEquals(2, left.size(), "a staging folder and its owner marker: " + left);
        assertTrue(left.stream().allMatch(n -> n.startsWith(".out.headfuse-")), left.toString());
        Cli again = Cli.run("convert", "--model", Assets.model("stories260K-mha-hf").toString(), "--out", out.toString(), "--kv-heads", "4");
        assertEquals(0, again.exit(), again.err());
        assertEquals(List.of("out"), names(work), "the dead writer's staging is gone");
        assertTrue(Files.exists(out.resolve("headfuse.json")));
    }

    @Test void ctrlCLeavesNothingBehind() throws Exception {
        Path work = Files.createDirectories(tmp.resolve("work"));
        Path out = work.resolve("out");
        Process p = startConversion(out);
        assertTrue(awaitStagedShard(p, out), "caught the conversion while it wrote shards: " + Files.readString(tmp.resolve("log.txt")));
        Process kill = new ProcessBuilder("kill", "-INT", Long.toString(p.pid())).inheritIO().start();
        assertEquals(0, kill.waitFor());
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the conversion stops on Ctrl-C");
        assertEquals(130, p.exitValue(), "killed by SIGINT");
        assertEquals(List.of(), names(work), "the shutdown hook removed its staging folder and marker");
    }
}
