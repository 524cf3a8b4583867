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

    @Test void learnedFusionFlagsNeedData() {
        Cli c = Cli.run(convert(tmp.resolve("x"), "--tokens", "4096"));
        assertEquals(2, c.exit());
        assertTrue(c.err().contains("--tokens and --device set up learned fusion, which needs --data FILE"), c.err());
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
