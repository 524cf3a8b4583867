package io.headfuse.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.headfuse.converter.Headfuse;
import io.headfuse.converter.ModelInfo;
import io.headfuse.converter.Units;
import io.headfuse.testkit.Assets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code headfuse convert --strategy dha} end to end on headfuse-mha-s: per-layer K/V budgets under the KV bytes of
 * uniform GQA with 2 kv heads, written with per-layer k_proj/v_proj shapes; inspect, eval, generate and compare run
 * on the result; the same input gives the same bytes; --uniform gives a plain GQA checkpoint.
 */
class ConvertDhaTest {
    @TempDir Path tmp;

    private String[] convert(Path out, String... extra) {
        return convertWith(out, "--probe-tokens", "512", extra);
    }

    private String[] convertWith(Path out, String flag, String value, String... extra) {
        String[] base = {"convert", "--model", Assets.model("headfuse-mha-s").toString(), "--strategy", "dha", "--kv-heads", "2",
                "--calib", Assets.text("sotu/sotu-1790-2021.txt").toString(), "--calib-tokens", "4096", flag, value, "--out", out.toString()};
        String[] all = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test void convertsAndRunsWithPerLayerBudgets() throws Exception {
        Path out = tmp.resolve("dha");
        Cli c = Cli.run(convert(out));
        assertEquals(0, c.exit(), c.err());
        JsonNode report = Assets.json(out.resolve("headfuse.json"));
        assertFalse(report.path("output").path("hf_compatible").asBoolean(true));
        assertTrue(report.path("output").path("note").asText().contains("transformers"), report.toString());
        JsonNode ext = Assets.json(out.resolve("config.json")).path("headfuse");
        int heads = 0;
        for (JsonNode n : ext.path("k_heads")) heads += n.asInt();
        for (JsonNode n : ext.path("v_heads")) heads += n.asInt();
        assertEquals(2 * 2 * 4, heads, ext.toString());

        // 2 (K, V) x 2 kv heads x 4 layers x 32 dims x 2 bytes (bf16): uniform GQA's bytes, summed over layers.
        ModelInfo info = Headfuse.inspect(out);
        assertEquals(1024, info.kvBytesPerToken());
        Cli inspect = Cli.run("inspect", out.toString());
        assertTrue(inspect.out().contains("DHA") && inspect.out().contains(Units.bytes(1024) + " per token"), inspect.out());

        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "The President said that the nation would meet its obligations to the people. ".repeat(20));
        Cli eval = Cli.run("eval", "--model", out.toString(), "--data", text.toString());
        assertEquals(0, eval.exit(), eval.err());
        Cli gen = Cli.run("generate", "--model", out.toString(), "--prompt", "The President said", "-n", "8");
        assertEquals(0, gen.exit(), gen.err());
        Cli cmp = Cli.run("compare", "--teacher", Assets.model("headfuse-mha-s").toString(), "--student", out.toString(), "--data", text.toString());
        assertEquals(0, cmp.exit(), cmp.err());

        Path again = tmp.resolve("dha2");
        assertEquals(0, Cli.run(convert(again)).exit());
        Map<String, String> a = Cli.hashes(out), b = Cli.hashes(again);
        a.remove("headfuse.json");
        b.remove("headfuse.json");
        assertEquals(a, b, "same input and seed, same bytes");

        Cli plan = Cli.run("plan", "--model", Assets.model("headfuse-mha-s").toString(), "--strategy", "dha", "--kv-heads", "2",
                "--calib", Assets.text("sotu/sotu-1790-2021.txt").toString(), "--calib-tokens", "4096", "--probe-tokens", "512");
        assertEquals(0, plan.exit(), plan.err());
        assertTrue(plan.out().contains("per-layer budgets") && plan.out().contains("total 16 kv heads"), plan.out());
    }

    /**
     * Learned fusion through the CLI (a short run: 16 steps of one 256-token window): the log in headfuse.json has one point
     * per step with the fusion loss of every layer falling and the multipliers rising, dha.png is drawn, the KV bytes
     * are the budget's, and headfuse uptrain loads the result and trains it.
     */
    @Test void learnedFusionThenUptrain() throws Exception {
        Path out = tmp.resolve("fused"), data = Assets.text("tinyshakespeare/tinyshakespeare.txt");
        Cli c = Cli.run(convert(out, "--data", data.toString(), "--tokens", "4096"));
        assertEquals(0, c.exit(), c.err());
        assertTrue(Files.size(out.resolve("dha.png")) > 10_000);
        JsonNode report = Assets.json(out.resolve("headfuse.json"));
        JsonNode log = report.path("details").path("learned_fusion");
        assertEquals(16, log.path("steps").asInt(), log.toString());
        JsonNode points = log.path("points"), first = points.get(0), last = points.get(points.size() - 1);
        assertEquals(16, points.size());
        for (int l = 0; l < 4; l++) {
            double a = first.path("fusion_loss").get(l).asDouble(), b = log.path("final_fusion_loss").get(l).asDouble();
            System.out.printf("layer %d fusion loss %.4f -> %.4f%n", l, a, b);
            assertTrue(b < 0.9 * a && a > 0, "layer " + l + ": " + a + " -> " + b);
            assertTrue(last.path("lambda").get(l).asDouble() > 0, "multipliers rise");
        }
        JsonNode collapse = log.path("collapse");
        double klFused = collapse.path("kl_fused").asDouble(-1), klCollapsed = collapse.path("kl_collapsed").asDouble(-1);
        assertTrue(klFused > 0 && klCollapsed > 0 && collapse.path("max_logit_change").asDouble() >= collapse.path("mean_logit_change").asDouble(),
                "the collapse is measured: " + collapse);
        assertEquals(4 * 32 * 2 * 2 * 2, report.path("kv_bytes_per_token").path("after").asLong(), "2 kv heads on average, K and V, bf16");
        assertTrue(report.path("details").path("method").asText().contains("learned fusion (4096 tokens)"));
        Cli up = Cli.run("uptrain", "--teacher", Assets.model("headfuse-mha-s").toString(), "--student", out.toString(), "--data", data.toString(),
                "--out", tmp.resolve("up").toString(), "--tokens", "1024", "--seq", "256", "--batch", "4", "--eval-tokens", "2048");
        assertEquals(0, up.exit(), up.err());
        assertEquals(Assets.json(out.resolve("config.json")).path("headfuse"), Assets.json(tmp.resolve("up").resolve("config.json")).path("headfuse"),
                "per-layer heads kept");
    }

    /**
     * The learned-fusion settings from the command line, in a short run (8 steps of 2 x 128 tokens, difficulty by
     * reconstruction error so that no probes run): headfuse.json's log records the window, batch and learning rates
     * given, and the multipliers follow --fusion-rho and --multiplier-every: zero before the first update after step 3,
     * then rho times the fusion loss of step 3 (the default would update after step 2, with rho 4).
     */
    @Test void learnedFusionTakesItsSettingsFromTheFlags() throws Exception {
        Path out = tmp.resolve("tuned");
        Cli c = Cli.run(convertWith(out, "--difficulty", "reconstruction", "--data", Assets.text("tinyshakespeare/tinyshakespeare.txt").toString(),
                "--tokens", "2048", "--fusion-seq", "128", "--fusion-batch", "2", "--fusion-lr", "5e-4", "--operator-lr", "0.2", "--fusion-rho", "2",
                "--multiplier-every", "3"));
        assertEquals(0, c.exit(), c.err());
        JsonNode log = Assets.json(out.resolve("headfuse.json")).path("details").path("learned_fusion");
        assertEquals(128, log.path("seq").asInt(), log.toString());
        assertEquals(2, log.path("batch").asInt());
        assertEquals(5e-4, log.path("lr").asDouble());
        assertEquals(0.2, log.path("operator_lr").asDouble());
        assertEquals(2.0, log.path("rho").asDouble());
        assertEquals(3, log.path("multiplier_every").asInt());
        assertEquals(8, log.path("steps").asInt());
        assertEquals(2048, log.path("tokens").asLong());
        JsonNode points = log.path("points");
        assertEquals(8, points.size());
        assertEquals(256, points.get(0).path("tokens").asLong(), "one step is 2 windows of 128 tokens");
        for (int l = 0; l < 4; l++) {
            for (int s = 0; s < 3; s++) assertEquals(0.0, points.get(s).path("lambda").get(l).asDouble(), "no update before step 3");
            double f3 = points.get(2).path("fusion_loss").get(l).asDouble(), lambda4 = points.get(3).path("lambda").get(l).asDouble();
            System.out.printf("layer %d: fusion loss at step 3 %.6f, lambda at step 4 %.6f%n", l, f3, lambda4);
            assertTrue(f3 > 0, "layer " + l);
            assertEquals(2 * f3, lambda4, 1e-6 * lambda4, "layer " + l + ": lambda = rho x f after step 3");
        }
    }

    @Test void learnedFusionFlagsNeedData() {
        Cli c = Cli.run(convert(tmp.resolve("x"), "--tokens", "4096"));
        assertEquals(2, c.exit());
        assertTrue(c.err().contains("--tokens sets up learned fusion, which needs --data FILE"), c.err());
        c = Cli.run(convertWith(tmp.resolve("x"), "--seed", "1", "--uniform", "--data", "README.md"));
        assertEquals(2, c.exit());
        assertTrue(c.err().contains("learned fusion (--data) does not apply"), c.err());
        c = Cli.run(convert(tmp.resolve("x"), "--data", tmp.resolve("missing.txt").toString()));
        assertEquals(1, c.exit());
        assertTrue(c.err().contains("missing.txt"), c.err());
        assertFalse(Files.exists(tmp.resolve("x")));
    }

    @Test void uniformIsPlainGqa() throws Exception {
        Path out = tmp.resolve("uniform");
        Cli c = Cli.run(convertWith(out, "--seed", "3", "--uniform"));
        assertEquals(0, c.exit(), c.err());
        JsonNode config = Assets.json(out.resolve("config.json"));
        assertEquals(2, config.path("num_key_value_heads").asInt());
        assertTrue(config.path("headfuse").isMissingNode(), config.toString());
        assertTrue(Assets.json(out.resolve("headfuse.json")).path("output").path("hf_compatible").asBoolean());
    }

    @Test void dhaOptionsNeedTheDhaStrategy() {
        Cli c = Cli.run("convert", "--kv-heads", "2", "--uniform", "--out", tmp.resolve("x").toString());
        assertEquals(2, c.exit());
        assertTrue(c.err().contains("--uniform is an option of --strategy dha"), c.err());
        assertFalse(Files.exists(tmp.resolve("x")));
    }
}
