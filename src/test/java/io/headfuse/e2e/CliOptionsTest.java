package io.headfuse.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.testkit.Assets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 7, items 3, 7-9: one behaviour for usage errors, help and version, refused options, report files, text input. */
class CliOptionsTest {
    @TempDir Path tmp;

    private static final List<String> COMMANDS = List.of("inspect", "convert", "plan", "eval", "generate", "compare");

    private static void usageError(Cli r, String message) {
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains(message), r.err());
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("usage: headfuse ")), "the usage line: " + r.err());
    }

    @Test void helpAndVersion() {
        for (String c : COMMANDS) {
            Cli h = Cli.run(c, "-h"), help = Cli.run(c, "--help");
            assertEquals(0, h.exit(), c + " -h: " + h.err());
            assertEquals(help.out(), h.out(), c + ": -h is --help");
            assertTrue(h.out().startsWith("usage: headfuse " + c), h.out());
        }
        Cli v = Cli.run("--version");
        assertEquals(0, v.exit());
        assertEquals("headfuse 0.1.0", v.out().strip());
        String convert = Cli.run("convert", "--help").out().replaceAll("\\s+", " ");
        for (String s : List.of("--no-align", "--no-lsq", "--decoupled", "default cka when aligning", "only an earlier model output"))
            assertTrue(convert.contains(s), "convert --help says " + s + ":\n" + convert);
        assertTrue(Cli.run("eval", "--help").out().contains("its folder must exist"));
    }

    @Test void unknownStrategyIsAUsageError() {
        usageError(Cli.run("convert", "--out", tmp.resolve("o").toString(), "--kv-heads", "4", "--strategy", "kmeans"),
                "unknown strategy 'kmeans' (known: mean, asym, dha)");
        usageError(Cli.run("plan", "--kv-heads", "4", "--strategy", "kmeans"), "unknown strategy 'kmeans'");
    }

    @Test void planRefusesLearnedFusionFlags() {
        usageError(Cli.run("plan", "--kv-heads", "2", "--strategy", "dha", "--calib", "a.txt", "--data", "b.txt", "--fusion-seq", "128"),
                "plan prints the groups and budgets without training: --data, --fusion-seq belong to convert");
    }

    @Test void optionsOfAnotherStrategyAreRefused() {
        Path out = tmp.resolve("o");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--strategy", "mean", "--align", "--calib", "missing.txt"),
                "--align is an option of --strategy asym, not of mean");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--calib", "missing.txt"),
                "--calib is an option of --strategy asym|dha, not of mean");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--no-lsq"), "--no-lsq is an option of --strategy asym");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--strategy", "asym"), "--strategy asym needs calibration text: --calib FILE");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--strategy", "asym", "--calib", "x.txt", "--align", "--no-align"),
                "--align and --no-align contradict each other");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--strategy", "asym", "--calib", "x.txt", "--restarts", "0"),
                "--restarts must be a positive whole number, got 0");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--strategy", "dha", "--calib", "x.txt", "--restarts", "2"),
                "--restarts is an option of --strategy asym, not of dha");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--strategy", "dha", "--calib", "x.txt", "--no-lsq"),
                "--no-lsq is an option of --strategy asym, not of dha");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--strategy", "dha", "--calib", "x.txt", "--difficulty", "guess"),
                "--difficulty must be one of loss, reconstruction, got 'guess'");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--strategy", "dha", "--calib", "x.txt", "--probe-tokens", "1"),
                "--probe-tokens must be at least 2, got 1");
        usageError(Cli.run("convert", "--out", out.toString(), "--kv-heads", "4", "--strategy", "dha", "--calib", "x.txt", "--uniform", "--decoupled"),
                "--uniform exports asym's uniform layout: --decoupled, --difficulty and --probe-tokens do not apply");
        assertFalse(Files.exists(out));
    }

    @Test void theLibraryRefusesCalibrationTextForMeanPooling() {
        io.headfuse.converter.ConvertOptions o = io.headfuse.converter.ConvertOptions.of(Assets.model("stories260K-mha-hf"), tmp.resolve("o"), 4)
                .withCalibration(List.of(Path.of("README.md")), 1000);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> io.headfuse.converter.Headfuse.convert(o));
        assertEquals("strategy mean uses no calibration text, but calibration files were given: [README.md]", e.getMessage());
        assertFalse(Files.exists(tmp.resolve("o")));
    }

    @Test void planTakesNoWritingOptions() {
        for (List<String> extra : List.of(List.of("--out", tmp.resolve("o").toString()), List.of("--force"), List.of("--dtype", "bf16"), List.of("--shard-size", "5GB"))) {
            List<String> args = new java.util.ArrayList<>(List.of("plan", "--kv-heads", "4"));
            args.addAll(extra);
            Cli r = Cli.run(args.toArray(String[]::new));
            usageError(r, "Unrecognized option: " + extra.get(0));
        }
        Cli ok = Cli.run("plan", "--model", Assets.model("stories260K-mha-hf").toString(), "--kv-heads", "4");
        assertEquals(0, ok.exit(), ok.err());
        assertTrue(ok.out().contains("strategy mean"), ok.out());
    }

    @Test void reportFilesNeedAnExistingFolder() throws IOException {
        Path data = Files.writeString(tmp.resolve("t.txt"), "Call me Ishmael. ".repeat(50));
        Path json = tmp.resolve("no/such/folder/r.json");
        for (List<String> args : List.of(
                List.of("eval", "--model", Assets.model("stories260K-mha-hf").toString(), "--data", data.toString(), "--json", json.toString()),
                List.of("compare", "--teacher", Assets.model("stories260K-mha-hf").toString(), "--student", Assets.model("stories260K-gqa-hf").toString(),
                        "--data", data.toString(), "--json", json.toString()),
                List.of("plan", "--model", Assets.model("stories260K-mha-hf").toString(), "--kv-heads", "4", "--png", json.resolveSibling("p.png").toString()))) {
            Cli r = Cli.run(args.toArray(String[]::new));
            assertEquals(1, r.exit(), r.err());
            assertTrue(r.err().contains(tmp.resolve("no/such/folder") + " does not exist"), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertEquals(List.of(data), s.toList(), "no folder created");
        }
    }

    @Test void evalRefusesBinaryAndNamesShortFiles() throws IOException {
        String model = Assets.model("stories260K-mha-hf").toString();
        Path bin = Assets.model("stories260K-mha-hf").resolve("model.safetensors");
        Cli b = Cli.run("eval", "--model", model, "--data", bin.toString());
        assertEquals(1, b.exit());
        assertTrue(b.err().contains(bin + ": not a text file (NUL byte at offset"), b.err());
        Path latin1 = Files.write(tmp.resolve("latin1.txt"), "caf\u00e9 ol\u00e9".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        Cli l = Cli.run("eval", "--model", model, "--data", latin1.toString());
        assertEquals(1, l.exit());
        assertTrue(l.err().contains(latin1 + ": not UTF-8 text (invalid byte at offset 3)"), l.err());
        Path empty = Files.createFile(tmp.resolve("empty.txt"));
        Cli e = Cli.run("eval", "--model", model, "--data", empty.toString());
        assertEquals(1, e.exit());
        assertTrue(e.err().contains(empty + ": text too short: 1 tokens"), e.err());
        Cli calib = Cli.run("convert", "--model", model, "--out", tmp.resolve("o").toString(), "--kv-heads", "4", "--strategy", "asym", "--calib", empty.toString());
        assertEquals(1, calib.exit());
        assertTrue(calib.err().contains(empty + ": text too short: 1 tokens"), calib.err());
        assertFalse(Files.exists(tmp.resolve("o")));
    }
}
