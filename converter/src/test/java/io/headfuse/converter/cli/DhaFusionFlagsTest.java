package io.headfuse.converter.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.headfuse.converter.ConvertOptions;
import io.headfuse.converter.DhaFusionTraining;
import io.headfuse.converter.Headfuse;
import io.headfuse.fusion.dha.DhaOptions;
import io.headfuse.fusion.dha.FusionRecipe;
import io.headfuse.testkit.Assets;
import io.headfuse.uptrain.fusion.LearnedFusion;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.commons.cli.DefaultParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learned-fusion flags of {@code convert --strategy dha} (--fusion-seq, --fusion-batch, --fusion-lr, --operator-lr,
 * --fusion-rho, --multiplier-every): given values reach {@link DhaOptions#fusionRecipe}, left out they are today's
 * defaults, and every bad value is a usage error (exit 2, one line naming the flag, the usage line) before any work,
 * including the ones that need the model (a window longer than its positions, a budget under one step).
 */
class DhaFusionFlagsTest {
    @TempDir Path tmp;

    private String[] convert(String... extra) {
        List<String> a = new ArrayList<>(List.of("--model", Assets.model("headfuse-mha-s").toString(), "--strategy", "dha", "--kv-heads", "2",
                "--calib", Assets.text("sotu/sotu-1790-2021.txt").toString(), "--out", tmp.resolve("out").toString()));
        a.addAll(List.of(extra));
        return a.toArray(String[]::new);
    }

    private DhaOptions parsed(String... extra) throws Exception {
        ConvertOptions o = ConvertCommand.ConvertArgs.parse(new DefaultParser().parse(ConvertCommand.ConvertArgs.options(), convert(extra)));
        return (DhaOptions) o.strategyOptions();
    }

    /** Runs {@code headfuse convert} in-process and checks it is a usage error whose message is {@code message}. */
    private void usageError(String message, String... extra) {
        List<String> args = new ArrayList<>(List.of("convert"));
        args.addAll(List.of(convert(extra)));
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int exit = Main.run(args.toArray(String[]::new), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, exit, e);
        List<String> lines = e.lines().toList();
        assertEquals(2, lines.size(), "one message line and the usage line: " + e);
        assertEquals("headfuse convert: " + message, lines.get(0));
        assertTrue(lines.get(1).startsWith("usage: headfuse convert ") && lines.get(1).contains("[--fusion-seq N]"), e);
        assertFalse(Files.exists(tmp.resolve("out")), "nothing written");
    }

    @Test void givenValuesReachTheOptions() throws Exception {
        DhaOptions o = parsed("--data", "a.txt", "--tokens", "8k", "--fusion-seq", "128", "--fusion-batch", "3", "--fusion-lr", "5e-4",
                "--operator-lr", "0.2", "--fusion-rho", "2.5", "--multiplier-every", "5");
        assertEquals(new FusionRecipe(128, 3, 5e-4, 0.2, 2.5, 5), o.fusionRecipe());
        assertEquals(8000, o.fusionTokens());
        assertEquals(new LearnedFusion.Settings(2.5, 5, 0.2), DhaFusionTraining.settings(o.fusionRecipe()));
        assertEquals(FusionRecipe.defaults().withOperatorLr(0.5), parsed("--data", "a.txt", "--operator-lr", "0.5").fusionRecipe());
    }

    /** Left out, the flags are the values the learned fusion used before they were options. */
    @Test void defaultsAreUnchanged() throws Exception {
        FusionRecipe r = parsed("--data", "a.txt").fusionRecipe();
        assertEquals(new FusionRecipe(null, 1, 3e-4, 0.3, 4, 2), r);
        assertEquals(256, r.window(512));
        assertEquals(r, DhaOptions.defaults().fusionRecipe());
        assertEquals(LearnedFusion.Settings.defaults(), DhaFusionTraining.settings(r));
    }

    @Test void badValuesAreUsageErrors() {
        usageError("--fusion-seq expects a whole number, got 'long'", "--data", "a.txt", "--fusion-seq", "long");
        usageError("--fusion-seq must be at least 2 tokens, got 0", "--data", "a.txt", "--fusion-seq", "0");
        usageError("--fusion-batch must be at least 1 window, got -1", "--data", "a.txt", "--fusion-batch", "-1");
        usageError("--fusion-batch expects a whole number, got '1.5'", "--data", "a.txt", "--fusion-batch", "1.5");
        usageError("--fusion-lr expects a number, got '3e-4x'", "--data", "a.txt", "--fusion-lr", "3e-4x");
        usageError("--fusion-lr must be a positive number, got 0.0", "--data", "a.txt", "--fusion-lr", "0");
        usageError("--operator-lr must be a positive number, got -0.3", "--data", "a.txt", "--operator-lr", "-0.3");
        usageError("--operator-lr must be a positive number, got NaN", "--data", "a.txt", "--operator-lr", "NaN");
        usageError("--fusion-rho must be a positive number, got 0.0", "--data", "a.txt", "--fusion-rho", "0");
        usageError("--fusion-rho expects a number, got 'big'", "--data", "a.txt", "--fusion-rho", "big");
        usageError("--multiplier-every must be at least 1 step, got 0", "--data", "a.txt", "--multiplier-every", "0");
        usageError("--multiplier-every expects a whole number, got 'x'", "--data", "a.txt", "--multiplier-every", "x");
        usageError("--fusion-seq, --operator-lr set up learned fusion, which needs --data FILE", "--fusion-seq", "128", "--operator-lr", "0.2");
        usageError("--multiplier-every sets up learned fusion, which needs --data FILE", "--multiplier-every", "3");
    }

    /** headfuse-mha-s has 512 positions; these need the model's config, and are still refused before calibration. */
    @Test void settingsThatDoNotFitTheModelAreUsageErrors() {
        Path data = Assets.text("tinyshakespeare/tinyshakespeare.txt");
        usageError("--fusion-seq 1024 is longer than the model's 512 positions", "--data", data.toString(), "--fusion-seq", "1024");
        usageError("--tokens 200 is less than one fusion step (--fusion-seq 128 x --fusion-batch 2 = 256 tokens)",
                "--data", data.toString(), "--tokens", "200", "--fusion-seq", "128", "--fusion-batch", "2");
        usageError("--tokens 1000 is less than one fusion step (--fusion-seq 256 x --fusion-batch 4 = 1024 tokens)",
                "--data", data.toString(), "--tokens", "1000", "--fusion-batch", "4");
    }

    /** Library users get the same checks: Headfuse.convert refuses before it calibrates or writes anything. */
    @Test void theLibraryRefusesTheSame() {
        DhaOptions d = DhaOptions.defaults().withFusion(List.of(Assets.text("tinyshakespeare/tinyshakespeare.txt")), 1000, "cpu")
                .withFusionRecipe(FusionRecipe.defaults().withBatch(4));
        ConvertOptions o = ConvertOptions.of(Assets.model("headfuse-mha-s"), tmp.resolve("out"), 2).withStrategy(d)
                .withCalibration(List.of(Assets.text("sotu/sotu-1790-2021.txt")), 4096);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Headfuse.convert(o));
        assertEquals("--tokens 1000 is less than one fusion step (--fusion-seq 256 x --fusion-batch 4 = 1024 tokens)", e.getMessage());
        assertFalse(Files.exists(tmp.resolve("out")));
        e = assertThrows(IllegalArgumentException.class, () -> FusionRecipe.defaults().withRho(Double.POSITIVE_INFINITY));
        assertEquals("--fusion-rho must be a positive number, got Infinity", e.getMessage());
        // The default window shrinks to a shorter model's positions, as it did before it was an option; a chosen one does not.
        assertEquals(128, FusionRecipe.defaults().window(128));
        assertEquals(64, FusionRecipe.defaults().withSeq(64).window(128));
        assertThrows(IllegalArgumentException.class, () -> FusionRecipe.defaults().withSeq(200).window(128));
        e = assertThrows(IllegalArgumentException.class, () -> FusionRecipe.defaults().withSeq(256).window(128));
        assertEquals("--fusion-seq 256 is longer than the model's 128 positions", e.getMessage(), "256 given is a choice, not the default");
    }
}
